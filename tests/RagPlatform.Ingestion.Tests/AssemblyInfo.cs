using RagPlatform.Testing;

[assembly: CaptureConsole]
[assembly: AssemblyFixture(typeof(PostgresServer))]
