using RagPlatform.Cli.Benchmarks;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Benchmarks;

/// <summary>A small benchmark corpus, built once for the tests of a class into a temp directory.</summary>
public sealed class BenchCorpusFixture : IAsyncLifetime
{
    public const int Chunks = 800;

    private readonly TempDirectory _dir = new("bench-corpus");

    public string Directory => _dir.Combine("corpus");

    internal TextPool Pool { get; } = TextPool.FromBeir(RepositoryPaths.SciFact);

    internal SyntheticEmbedder Embedder { get; } = new();

    internal CorpusSummary Summary { get; private set; } = null!;

    /// <summary>The generated documents, by id: what the stores were given.</summary>
    internal IReadOnlyDictionary<Guid, CorpusDocument> Documents { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        (Summary, _) = await CorpusBuilder.EnsureAsync(Directory, Chunks, Pool, Embedder, TextWriter.Null, TestContext.Current.CancellationToken);
        Documents = SyntheticCorpus.Generate(Pool, Chunks).ToDictionary(d => d.Id);
    }

    public ValueTask DisposeAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }
}
