namespace RagPlatform.Core.Security;

/// <summary>
/// Who is asking: one user and the groups they belong to. Everyone is also granted <c>public</c>.
/// <see cref="Principals"/> is the exact set of canonical strings that index filters match against.
/// </summary>
public sealed class CallerIdentity
{
    public CallerIdentity(Principal? user, IEnumerable<Principal> groups)
    {
        if (user is { Kind: not PrincipalKind.User } u)
        {
            throw new RagValidationException("principal", $"'{u}' is not a user; write user:NAME");
        }

        var set = new HashSet<string>(StringComparer.Ordinal) { Principal.Public.ToString() };
        if (user is { } usr)
        {
            set.Add(usr.ToString());
        }

        foreach (var g in groups)
        {
            if (g.Kind != PrincipalKind.Group)
            {
                throw new RagValidationException("groups", $"'{g}' is not a group; write group:NAME");
            }

            set.Add(g.ToString());
        }

        User = user;
        Principals = set;
    }

    /// <summary>An anonymous caller: sees only what is <c>public</c> in the tenant.</summary>
    public static CallerIdentity Anonymous { get; } = new(null, []);

    public Principal? User { get; }

    public IReadOnlySet<string> Principals { get; }

    /// <summary>Builds a caller from the CLI or API strings (<c>user:alice</c>; <c>group:eng,group:ops</c>).</summary>
    public static CallerIdentity Parse(string? user, IEnumerable<string> groups)
    {
        Principal? u = string.IsNullOrWhiteSpace(user) ? null : Principal.Parse(user, "principal");
        return new CallerIdentity(u, groups.Where(g => !string.IsNullOrWhiteSpace(g)).Select(g => Principal.Parse(g, "groups")));
    }
}
