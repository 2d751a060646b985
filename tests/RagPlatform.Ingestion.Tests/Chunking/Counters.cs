using RagPlatform.Core.Text;
using RagPlatform.Inference.Tokenization;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Chunking;

/// <summary>The two real token counters the chunker is used with, by the names tests pass as data.</summary>
public static class Counters
{
    private static readonly Lazy<ITokenCounter> BertWordPiece = new(() => TokenCounters.WordPiece(RepositoryPaths.BertVocab));

    public static ITokenCounter Named(string name) => name switch
    {
        "tiktoken" => TokenCounters.Tiktoken(),
        "wordpiece" => BertWordPiece.Value,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Use 'tiktoken' or 'wordpiece'."),
    };
}
