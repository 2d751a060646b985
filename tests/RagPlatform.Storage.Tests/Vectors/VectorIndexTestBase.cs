using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Vectors;
using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Vectors;

/// <summary>Random unit vectors and chunks for the vector index tests, plus a temp directory whose indexes are disposed with it.</summary>
public abstract class VectorIndexTestBase : IDisposable
{
    private readonly List<EmbeddedVectorIndex> _opened = [];

    protected TempDirectory Temp { get; } = new("vectors");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected string IndexDirectory => Temp.Combine("idx");

    protected EmbeddedVectorIndex Open(VectorIndexOptions? options = null, string? directory = null)
    {
        var index = EmbeddedVectorIndex.Open(directory ?? IndexDirectory, options);
        _opened.Add(index);
        return index;
    }

    /// <summary>Lets the index go the way a killed process would, so that what is on disk is what a crash leaves.</summary>
    protected void Crash(EmbeddedVectorIndex index)
    {
        index.SimulateCrash();
        _opened.Remove(index);
    }

    protected void Close(EmbeddedVectorIndex index)
    {
        index.Dispose();
        _opened.Remove(index);
    }

    public static float[] RandomUnit(Random rng, int dimensions)
    {
        var v = new float[dimensions];
        double norm = 0;
        for (var i = 0; i < v.Length; i++)
        {
            // Sum of uniforms: roughly Gaussian, so directions are spread evenly over the sphere.
            v[i] = (float)(rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5);
            norm += v[i] * v[i];
        }

        var inv = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < v.Length; i++)
        {
            v[i] *= inv;
        }

        return v;
    }

    public static IndexedChunk Chunk(Guid documentId, int version, int ordinal, float[]? vector, string tenant = "t1", string[]? acl = null)
        => new()
        {
            ChunkId = ChunkIds.Create(documentId, version, ordinal),
            DocumentId = documentId,
            Version = version,
            Tenant = tenant,
            SourceId = Guid.Empty,
            Acl = acl ?? ["public"],
            Title = "title",
            Text = "text",
            Embedding = vector,
        };

    public static SearchFilter As(string tenant, params string[] principals) => new()
    {
        Tenant = tenant,
        Principals = new HashSet<string>(principals, StringComparer.Ordinal),
    };

    protected static async Task ApplyAsync(EmbeddedVectorIndex index, Action<IndexBatch> build)
    {
        var batch = new IndexBatch();
        build(batch);
        await index.ApplyAsync(batch, Ct);
    }

    /// <summary>Exact cosine scores of <paramref name="query"/> against every chunk, in double precision, best first.</summary>
    public static (string ChunkId, double Score)[] BruteForce(IEnumerable<IndexedChunk> chunks, float[] query, int limit)
        => chunks
            .Select(c => (c.ChunkId, Score: Dot(c.Embedding!, query)))
            .OrderByDescending(x => x.Score)
            .Take(limit)
            .ToArray();

    public static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    public void Dispose()
    {
        foreach (var index in _opened)
        {
            index.Dispose();
        }

        Temp.Dispose();
        GC.SuppressFinalize(this);
    }
}
