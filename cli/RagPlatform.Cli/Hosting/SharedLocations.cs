namespace RagPlatform.Cli.Hosting;

/// <summary>
/// Where benchmarks and evaluations find the shared, read-only data next to a clone
/// (<c>../shared</c>, or <c>RAG_SHARED_DIR</c>) and where they may write generated files
/// (<c>artifacts/</c>, ignored by git).
/// </summary>
internal static class SharedLocations
{
    public static string? RepositoryRoot
    {
        get
        {
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "RagPlatform.sln")))
                    {
                        return dir.FullName;
                    }
                }
            }

            return null;
        }
    }

    public static string SharedDirectory
        => Environment.GetEnvironmentVariable("RAG_SHARED_DIR") is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.GetFullPath(Path.Combine(RepositoryRoot ?? Directory.GetCurrentDirectory(), "..", "shared"));

    public static string SciFact => Path.Combine(SharedDirectory, "datasets", "scifact");

    public static string Artifacts => Path.Combine(RepositoryRoot ?? Directory.GetCurrentDirectory(), "artifacts");
}
