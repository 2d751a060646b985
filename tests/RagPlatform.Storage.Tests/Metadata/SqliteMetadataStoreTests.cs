using RagPlatform.Testing;

namespace RagPlatform.Storage.Tests.Metadata;

public sealed class SqliteMetadataStoreTests() : MetadataStoreConformanceTests(postgres: null);

public sealed class PostgresMetadataStoreTests(PostgresServer postgres) : MetadataStoreConformanceTests(postgres);
