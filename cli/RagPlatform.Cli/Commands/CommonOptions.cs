using System.CommandLine;

namespace RagPlatform.Cli.Commands;

/// <summary>Options several commands share, spelled the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<string?> Data() => new("--data")
    {
        Description = "Data directory of the embedded stores (default: RAG__DataDirectory, else ./.rag)",
        HelpName = "DIR",
    };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object instead of text" };

    public static Option<string> Tenant() => new("--tenant")
    {
        Description = "Tenant: the isolation boundary",
        DefaultValueFactory = _ => "default",
        HelpName = "T",
    };

    public static Option<bool> Verbose() => new("--verbose", "-v") { Description = "Log what happens (to standard error)" };
}

/// <summary>Exit codes of the CLI.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Nothing could be done (for example, every document failed).</summary>
    public const int Failed = 1;

    /// <summary>The arguments or settings are wrong; the message says what to fix.</summary>
    public const int Usage = 2;
}
