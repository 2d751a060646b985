using RagPlatform.Cli;

return await RagCli.Create().Parse(args).InvokeAsync();
