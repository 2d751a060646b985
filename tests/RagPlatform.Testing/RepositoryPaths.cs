namespace RagPlatform.Testing;

/// <summary>
/// Where the repository and the shared, read-only data (<c>../shared</c>) are. Tests read shared
/// data in place; when it is missing they fail with this message instead of passing quietly.
/// </summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository root (the folder holding <c>RagPlatform.sln</c>).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary><c>../shared</c> next to the repository, or <c>RAG_SHARED_DIR</c>.</summary>
    public static string SharedDirectory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("RAG_SHARED_DIR");
            var dir = string.IsNullOrEmpty(configured)
                ? Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"))
                : Path.GetFullPath(configured);
            if (!Directory.Exists(dir))
            {
                throw new InvalidOperationException(
                    $"The shared data directory '{dir}' does not exist. Tests read datasets and models from ../shared " +
                    "next to the repository (or from RAG_SHARED_DIR); check it out there and run the tests again.");
            }

            return dir;
        }
    }

    /// <summary>A file or folder under <c>../shared</c>; fails loudly when it is missing.</summary>
    public static string Shared(params string[] parts)
    {
        var path = Path.Combine([SharedDirectory, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new InvalidOperationException(
                $"Shared test data '{path}' is missing. It is read in place from ../shared and never copied into the repository; restore it there.");
        }

        return path;
    }

    /// <summary>The synthetic tiny BERT embedder (random weights, for code paths only).</summary>
    public static string TinyEmbedderModel => Shared("models", "synthetic-tiny-bert-TEST-ONLY", "tiny_bert_embedder_random.onnx");

    /// <summary>The synthetic tiny BERT cross-encoder (random weights, for code paths only).</summary>
    public static string TinyCrossEncoderModel => Shared("models", "synthetic-tiny-bert-TEST-ONLY", "tiny_bert_cross_encoder_random.onnx");

    /// <summary>The real uncased BERT WordPiece vocabulary.</summary>
    public static string BertVocab => Shared("models", "all-MiniLM-L6-v2-tokenizer", "vocab.txt");

    public static string SciFact => Shared("datasets", "scifact");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RagPlatform.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Could not find RagPlatform.sln above {AppContext.BaseDirectory}.");
    }
}
