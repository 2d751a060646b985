using RagPlatform.Cli.Benchmarks;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Benchmarks;

public sealed class SyntheticCorpusTests
{
    private static readonly Lazy<TextPool> Pool = new(() => TextPool.FromBeir(RepositoryPaths.SciFact));

    [Fact]
    public void The_corpus_has_exactly_the_chunks_asked_for_and_is_the_same_every_time()
    {
        var first = SyntheticCorpus.Generate(Pool.Value, 2500).ToList();
        var second = SyntheticCorpus.Generate(Pool.Value, 2500).ToList();

        Assert.Equal(2500, first.Sum(d => d.Chunks.Count));
        Assert.Equal(first.Select(d => (d.Id, d.Tenant, d.Text, d.Acl.ToString())), second.Select(d => (d.Id, d.Tenant, d.Text, d.Acl.ToString())));
        Assert.Equal(first.Count, first.Select(d => d.Id).Distinct().Count());
        Assert.All(first, d => Assert.InRange(d.Chunks.Count, 1, 19));
    }

    [Fact]
    public void Chunks_tile_the_document_text_with_blank_lines_between_them()
    {
        foreach (var doc in SyntheticCorpus.Generate(Pool.Value, 500))
        {
            Assert.Equal(0, doc.Chunks[0].Start);
            Assert.Equal(doc.Text.Length, doc.Chunks[^1].End);
            for (var i = 1; i < doc.Chunks.Count; i++)
            {
                Assert.Equal("\n\n", doc.Text[doc.Chunks[i - 1].End..doc.Chunks[i].Start]);
            }

            Assert.All(doc.Chunks, c => Assert.True(c.End - c.Start >= 60, $"chunk of {c.End - c.Start} characters"));
        }
    }

    [Fact]
    public void The_caller_may_see_most_but_not_all_of_its_tenant_and_the_other_tenant_has_documents_it_would_be_granted()
    {
        var docs = SyntheticCorpus.Generate(Pool.Value, 20_000).ToList();
        var own = docs.Where(d => d.Tenant == SyntheticCorpus.Tenant).Sum(d => d.Chunks.Count);
        var visible = docs.Where(d => d.Tenant == SyntheticCorpus.Tenant && d.Acl.Permits(SyntheticCorpus.Caller)).Sum(d => d.Chunks.Count);

        Assert.InRange(own / 20_000.0, 0.85, 0.95);
        Assert.InRange(visible / (double)own, 0.7, 0.9);
        Assert.Contains(docs, d => d.Tenant == SyntheticCorpus.OtherTenant && d.Acl.Permits(SyntheticCorpus.Caller));
    }

    [Fact]
    public void A_missing_dataset_is_named_with_what_to_do()
    {
        using var empty = new TempDirectory("no-dataset");

        var error = Assert.Throws<FileNotFoundException>(() => TextPool.FromBeir(empty.Path));

        Assert.Contains(empty.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("--dataset", error.Message, StringComparison.Ordinal);
    }
}
