using System.Collections.Concurrent;
using RagPlatform.Core.Security;

namespace RagPlatform.Retrieval.Internal;

/// <summary>
/// The final ACL check of every hit, against the ACL text the metadata store holds. The same few ACL texts come
/// back on almost every hit, so each is parsed once (<see cref="AccessControlList.Parse"/>: the same validation
/// and canonical forms) and its canonical principals are kept; parsing and re-formatting them per hit cost more
/// than the rest of the check. A text that fails to parse is not remembered, so it fails on every use as before.
/// </summary>
internal sealed class StoredAclCache
{
    // Distinct ACL texts are few (one per sharing pattern, not per document); past this many the cache starts over,
    // which bounds memory whatever the data.
    private const int MaxEntries = 4096;

    private readonly ConcurrentDictionary<string, string[]> _principals = new(StringComparer.Ordinal);

    /// <summary>Exactly <c>AccessControlList.Parse(acl).Permits(caller)</c>.</summary>
    public bool Permits(string acl, CallerIdentity caller)
    {
        if (!_principals.TryGetValue(acl, out var principals))
        {
            principals = [.. AccessControlList.Parse(acl).ToStrings()];
            if (_principals.Count >= MaxEntries)
            {
                _principals.Clear();
            }

            _principals.TryAdd(acl, principals);
        }

        foreach (var principal in principals)
        {
            if (caller.Principals.Contains(principal))
            {
                return true;
            }
        }

        return false;
    }
}
