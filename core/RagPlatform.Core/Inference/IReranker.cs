namespace RagPlatform.Core.Inference;

/// <summary>Scores (query, passage) pairs jointly, as a cross-encoder does. Higher is more relevant.</summary>
public interface IReranker
{
    /// <summary>Names the model (file name and content hash), for explanations and logs.</summary>
    string ModelId { get; }

    Task<float[]> ScoreAsync(string query, IReadOnlyList<string> passages, CancellationToken cancellationToken);
}
