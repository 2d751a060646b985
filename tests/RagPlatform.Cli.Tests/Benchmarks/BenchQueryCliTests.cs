namespace RagPlatform.Cli.Tests.Benchmarks;

public sealed class BenchQueryCliTests
{
    [Theory]
    [InlineData(new[] { "--chunks", "1000", "--large" }, "not both")]
    [InlineData(new[] { "--chunks", "0" }, "must be positive")]
    [InlineData(new[] { "--quantization", "int4" }, "int4")]
    public async Task Wrong_arguments_exit_2_saying_what_to_fix(string[] args, string expected)
    {
        var result = await CliProcess.RunAsync(["bench", "query", .. args]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
    }
}
