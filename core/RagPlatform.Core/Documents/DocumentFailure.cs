namespace RagPlatform.Core.Documents;

/// <summary>Why a document could not be indexed. The class decides whether a retry can help.</summary>
public enum FailureKind
{
    None = 0,

    // Permanent: the input itself is wrong; retrying the same bytes gives the same result.
    Unsupported = 1,
    Corrupt = 2,
    TooLarge = 3,
    Empty = 4,
    InvalidEncoding = 5,

    /// <summary>The document's ACL file (sidecar or folder default) names a principal that is not valid.</summary>
    InvalidAcl = 6,

    // Transient: the environment failed; a retry may succeed.
    Unreadable = 10,
    Timeout = 11,
    Unavailable = 12,

    /// <summary>A bug or an unexpected state on our side; reported with the exception's message.</summary>
    Internal = 20,
}

public static class FailureKindExtensions
{
    public static bool IsTransient(this FailureKind kind) => kind is FailureKind.Unreadable or FailureKind.Timeout or FailureKind.Unavailable;

    /// <summary>The stable wire name: <c>unsupported</c>, <c>corrupt</c>, <c>too_large</c>...</summary>
    public static string ToWireName(this FailureKind kind) => kind switch
    {
        FailureKind.None => "none",
        FailureKind.Unsupported => "unsupported",
        FailureKind.Corrupt => "corrupt",
        FailureKind.TooLarge => "too_large",
        FailureKind.Empty => "empty",
        FailureKind.InvalidEncoding => "invalid_encoding",
        FailureKind.InvalidAcl => "invalid_acl",
        FailureKind.Unreadable => "unreadable",
        FailureKind.Timeout => "timeout",
        FailureKind.Unavailable => "unavailable",
        _ => "internal",
    };
}

/// <summary>
/// Thrown by a step (reading, parsing, embedding) to say that this document cannot be indexed and why.
/// The message is for the person who owns the document: what is wrong and what to do.
/// </summary>
public sealed class DocumentRejectedException : Exception
{
    public DocumentRejectedException(FailureKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public DocumentRejectedException()
    {
        Kind = FailureKind.Internal;
    }

    public DocumentRejectedException(string message)
        : base(message)
    {
        Kind = FailureKind.Internal;
    }

    public DocumentRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = FailureKind.Internal;
    }

    public FailureKind Kind { get; }
}
