namespace RagPlatform.Core;

/// <summary>
/// A request or setting that is wrong. Names the field and says what to do, so that hosts can map
/// it to <c>InvalidArgument</c> or to a CLI message without rewording it.
/// </summary>
public sealed class RagValidationException : Exception
{
    public RagValidationException(string field, string message)
        : base($"{field}: {message}")
    {
        Field = field;
        Reason = message;
    }

    public RagValidationException()
    {
        Field = string.Empty;
        Reason = string.Empty;
    }

    public RagValidationException(string message)
        : base(message)
    {
        Field = string.Empty;
        Reason = message;
    }

    public RagValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
        Reason = message;
    }

    public string Field { get; }

    public string Reason { get; }
}

/// <summary>Something named in a request does not exist (a document, a source, a version).</summary>
public sealed class RagNotFoundException : Exception
{
    public RagNotFoundException()
    {
    }

    public RagNotFoundException(string message)
        : base(message)
    {
    }

    public RagNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The request is valid but the platform cannot serve it as configured (for example, vector search with no embedding model).</summary>
public sealed class RagPreconditionException : Exception
{
    public RagPreconditionException()
    {
    }

    public RagPreconditionException(string message)
        : base(message)
    {
    }

    public RagPreconditionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What the request would create exists already (the API maps it to <c>AlreadyExists</c>).</summary>
public sealed class RagConflictException : Exception
{
    public RagConflictException()
    {
    }

    public RagConflictException(string message)
        : base(message)
    {
    }

    public RagConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A request too large to serve (the API maps it to <c>ResourceExhausted</c>).</summary>
public sealed class RagTooLargeException : Exception
{
    public RagTooLargeException()
    {
    }

    public RagTooLargeException(string message)
        : base(message)
    {
    }

    public RagTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
