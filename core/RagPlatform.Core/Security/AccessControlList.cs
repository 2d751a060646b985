namespace RagPlatform.Core.Security;

/// <summary>
/// The principals allowed to see a document. Deny by default: an empty list is visible to nobody
/// (only an administrator could see it). Principals are kept sorted and distinct, so that two equal
/// ACLs have the same canonical text and the same hash.
/// </summary>
public sealed class AccessControlList : IEquatable<AccessControlList>
{
    private readonly Principal[] _principals;

    public AccessControlList(IEnumerable<Principal> principals)
    {
        _principals = principals
            .DistinctBy(p => p.ToString(), StringComparer.Ordinal)
            .OrderBy(p => p.ToString(), StringComparer.Ordinal)
            .ToArray();
    }

    public static AccessControlList Empty { get; } = new([]);

    public static AccessControlList PublicOnly { get; } = new([Principal.Public]);

    public IReadOnlyList<Principal> Principals => _principals;

    public bool IsEmpty => _principals.Length == 0;

    /// <summary>Parses a comma-separated list such as <c>group:eng,user:alice</c>.</summary>
    public static AccessControlList Parse(string? text, string field = "acl")
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Empty;
        }

        return new AccessControlList(text
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => Principal.Parse(p, field)));
    }

    public static AccessControlList FromStrings(IEnumerable<string> principals, string field = "acl")
        => new(principals.Select(p => Principal.Parse(p, field)));

    /// <summary>The canonical strings, as written into every index.</summary>
    public IReadOnlyList<string> ToStrings() => Array.ConvertAll(_principals, p => p.ToString());

    /// <summary>True when any principal of the caller is granted.</summary>
    public bool Permits(CallerIdentity caller)
    {
        foreach (var p in _principals)
        {
            if (caller.Principals.Contains(p.ToString()))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => string.Join(',', ToStrings());

    public bool Equals(AccessControlList? other)
        => other is not null && _principals.AsSpan().SequenceEqual(other._principals);

    public override bool Equals(object? obj) => Equals(obj as AccessControlList);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());
}
