namespace RagPlatform.IndexerJobs.Tests.Harness;

/// <summary>
/// Hangfire keeps its storage in a process-wide static (<c>JobStorage.Current</c>), which every host
/// sets as it starts: hosts with Hangfire (and the gRPC server, which runs one) take turns.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HangfireCollection
{
    public const string Name = "hangfire";
}
