namespace RagPlatform.Core.Documents;

/// <summary>
/// Lifecycle of a document. A document that is not <see cref="Deleted"/> and has an active version is served
/// (a <see cref="Failed"/> update keeps the version indexed before it searchable).
/// </summary>
public enum DocumentState
{
    /// <summary>Known, not yet searchable (first version being written, or queued).</summary>
    Pending = 0,

    /// <summary>Its active version is in every store and searchable.</summary>
    Indexed = 1,

    /// <summary>The last attempt failed; a previously indexed version, if any, stays searchable.</summary>
    Failed = 2,

    /// <summary>Removed at the source; nothing of it remains in any index.</summary>
    Deleted = 3,
}
