using RagPlatform.Cli;
using RagPlatform.Cli.Commands;

var parse = RagCli.Create().Parse(args);
if (parse.Errors.Count > 0)
{
    // Wrong arguments: say what is wrong and how to get help, and exit 2 (nothing was attempted).
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"rag: {error.Message}");
    }

    Console.Error.WriteLine("Run 'rag --help' or 'rag COMMAND --help' for usage.");
    return ExitCodes.Usage;
}

return await parse.InvokeAsync();
