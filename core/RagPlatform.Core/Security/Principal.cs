using System.Diagnostics.CodeAnalysis;

namespace RagPlatform.Core.Security;

/// <summary>The kind of a principal. Written as a prefix everywhere: <c>user:alice</c>, <c>group:eng</c>, <c>public</c>.</summary>
public enum PrincipalKind
{
    User,
    Group,
    /// <summary>Everyone in the tenant.</summary>
    Public,
}

/// <summary>
/// Who may see a document, or who is asking. Always carries its kind, so that a user and a group
/// with the same name can never be confused.
/// </summary>
public readonly record struct Principal
{
    public const string PublicName = "public";

    private Principal(PrincipalKind kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    public PrincipalKind Kind { get; }

    /// <summary>The name without its kind: <c>alice</c> for <c>user:alice</c>; empty for <c>public</c>.</summary>
    public string Name { get; }

    public static Principal Public { get; } = new(PrincipalKind.Public, string.Empty);

    public static Principal User(string name) => new(PrincipalKind.User, ValidateName(name, "user"));

    public static Principal Group(string name) => new(PrincipalKind.Group, ValidateName(name, "group"));

    /// <summary>Parses <c>user:NAME</c>, <c>group:NAME</c> or <c>public</c>, or throws a <see cref="RagValidationException"/>.</summary>
    public static Principal Parse(string text, string field = "principal")
        => TryParse(text, out var principal, out var error)
            ? principal
            : throw new RagValidationException(field, error);

    public static bool TryParse(string? text, out Principal principal, [NotNullWhen(false)] out string? error)
    {
        principal = default;
        var trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            error = "a principal is empty; write user:NAME, group:NAME or public";
            return false;
        }

        if (string.Equals(trimmed, PublicName, StringComparison.OrdinalIgnoreCase))
        {
            principal = Public;
            error = null;
            return true;
        }

        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            error = $"'{trimmed}' has no kind; write user:{trimmed}, group:{trimmed} or public";
            return false;
        }

        var kind = trimmed[..colon].ToLowerInvariant();
        var name = trimmed[(colon + 1)..];
        if (!IsValidName(name))
        {
            error = $"'{trimmed}' has an invalid name: names are 1 to 256 characters without whitespace or commas";
            return false;
        }

        switch (kind)
        {
            case "user":
                principal = new Principal(PrincipalKind.User, name);
                break;
            case "group":
                principal = new Principal(PrincipalKind.Group, name);
                break;
            default:
                error = $"'{trimmed}' has the unknown kind '{kind}'; the kinds are user, group and public";
                return false;
        }

        error = null;
        return true;
    }

    /// <summary>The canonical form, as stored in every index: <c>user:alice</c>, <c>group:eng</c>, <c>public</c>.</summary>
    public override string ToString() => Kind switch
    {
        PrincipalKind.User => "user:" + Name,
        PrincipalKind.Group => "group:" + Name,
        _ => PublicName,
    };

    private static string ValidateName(string name, string kind)
        => IsValidName(name)
            ? name
            : throw new RagValidationException("principal", $"'{kind}:{name}' has an invalid name: names are 1 to 256 characters without whitespace or commas");

    private static bool IsValidName(string name)
    {
        if (name.Length is 0 or > 256)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (char.IsWhiteSpace(c) || c == ',' || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}
