using RagPlatform.Cli.Evaluation;
using RagPlatform.Retrieval;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests.Evaluation;

/// <summary>
/// The quality floor of issue 3: BEIR SciFact, test split, keyword mode, through the real pipeline
/// and retriever. The floors sit just under the measured figures (see the Evaluation README), so
/// that a change that costs retrieval quality fails here.
/// </summary>
public sealed class SciFactQualityTests
{
    [Fact]
    public async Task SciFact_test_split_in_keyword_mode_stays_above_its_floor()
    {
        // Throws, naming the missing path, when ../shared is not next to the repository.
        var dataset = new BeirDataset(RepositoryPaths.SciFact);

        var report = await BeirEvaluation.RunAsync(dataset, dataDirectory: null, new EvaluationSettings { Split = "test", Mode = RetrievalMode.Keyword }, progress: null, TestContext.Current.CancellationToken);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"SciFact test, keyword: nDCG@10 {report.Metrics.NdcgAt10:0.0000}, Recall@100 {report.Metrics.RecallAt100:0.0000}, MRR@10 {report.Metrics.MrrAt10:0.0000}, MAP@100 {report.Metrics.MapAt100:0.0000}");
        Assert.Equal(300, report.Metrics.Queries);
        Assert.Equal(5183, report.Ingestion.Added);
        Assert.Equal(0, report.Ingestion.Failed);
        Assert.Equal(RetrievalMode.Keyword, report.ModeUsed);
        Assert.True(report.Metrics.NdcgAt10 >= 0.690, $"nDCG@10 fell to {report.Metrics.NdcgAt10:0.0000} (floor 0.690)");
        Assert.True(report.Metrics.RecallAt100 >= 0.925, $"Recall@100 fell to {report.Metrics.RecallAt100:0.0000} (floor 0.925)");
    }
}
