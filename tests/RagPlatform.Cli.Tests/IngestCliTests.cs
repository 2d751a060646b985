using System.Text.Json;
using RagPlatform.Testing;

namespace RagPlatform.Cli.Tests;

public sealed class IngestCliTests : IDisposable
{
    private readonly TempDirectory _files = new("cli-files");
    private readonly TempDirectory _data = new("cli-data");

    [Fact]
    public async Task Help_lists_the_commands()
    {
        var result = await CliProcess.RunAsync(["--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("ingest", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_with_json_prints_one_summary_object_and_a_rerun_is_all_unchanged()
    {
        _files.Write("a.md", "# Alpha\n\nAlpha text about herons.");
        _files.Write("b.txt", "Beta text about otters.");
        _files.Write("bad.pdf", TestDocuments.CorruptPdf());

        var first = await CliProcess.RunAsync(["ingest", _files.Path, "--data", _data.Path, "--acl", "public", "--json"]);
        var second = await CliProcess.RunAsync(["ingest", _files.Path, "--data", _data.Path, "--acl", "public", "--json"]);

        Assert.True(first.ExitCode == 0, CliProcess.Describe(first));
        using var json = JsonDocument.Parse(first.Stdout);
        var docs = json.RootElement.GetProperty("documents");
        Assert.Equal((2, 0, 0, 0, 1), (docs.GetProperty("added").GetInt32(), docs.GetProperty("updated").GetInt32(), docs.GetProperty("unchanged").GetInt32(), docs.GetProperty("deleted").GetInt32(), docs.GetProperty("failed").GetInt32()));
        Assert.True(json.RootElement.GetProperty("chunks").GetInt32() >= 2);
        var failure = Assert.Single(json.RootElement.GetProperty("failures").EnumerateArray());
        Assert.EndsWith("bad.pdf", failure.GetProperty("path").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(failure.GetProperty("error").GetString()));
        Assert.True(json.RootElement.GetProperty("elapsed_ms").GetInt64() >= 0);

        using var again = JsonDocument.Parse(second.Stdout);
        Assert.Equal(2, again.RootElement.GetProperty("documents").GetProperty("unchanged").GetInt32());
        Assert.Equal(0, again.RootElement.GetProperty("chunks").GetInt32());
    }

    [Theory]
    [InlineData("--acl", "wizard:merlin", "unknown kind 'wizard'")]
    [InlineData("--acl", "alice", "has no kind")]
    [InlineData("--tenant", " ", "not a valid name")]
    public async Task Wrong_arguments_exit_2_with_a_message_saying_what_to_fix(string option, string value, string expected)
    {
        _files.Write("a.txt", "text");

        var result = await CliProcess.RunAsync(["ingest", _files.Path, "--data", _data.Path, option, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_arguments_exit_2_and_point_to_help()
    {
        var result = await CliProcess.RunAsync(["ingest"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--help", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_nothing_at_all_can_be_processed_the_exit_code_is_1()
    {
        _files.Write("bad.pdf", TestDocuments.CorruptPdf());
        _files.Write("image.png", TestDocuments.Png());

        var result = await CliProcess.RunAsync(["ingest", _files.Path, "--data", _data.Path, "--json"]);

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(2, json.RootElement.GetProperty("documents").GetProperty("failed").GetInt32());
    }

    [Fact]
    public async Task Without_an_acl_the_cli_warns_that_nobody_will_see_the_documents()
    {
        _files.Write("a.txt", "text");

        var result = await CliProcess.RunAsync(["ingest", _files.Path, "--data", _data.Path]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--acl public", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("keyword-only", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _files.Dispose();
        _data.Dispose();
    }
}
