using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using RagPlatform.Storage.Metadata.Entities;

namespace RagPlatform.Storage.Metadata;

/// <summary>
/// The metadata schema, shared by both providers. Each provider has its own derived context so
/// that it has its own migrations (<c>Migrations/Sqlite</c>, <c>Migrations/Postgres</c>).
/// </summary>
internal abstract class MetadataDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<TenantEntity> Tenants => Set<TenantEntity>();

    public DbSet<SourceEntity> Sources => Set<SourceEntity>();

    public DbSet<DocumentEntity> Documents => Set<DocumentEntity>();

    public DbSet<DocumentVersionEntity> DocumentVersions => Set<DocumentVersionEntity>();

    public DbSet<ChunkEntity> Chunks => Set<ChunkEntity>();

    public DbSet<EmbeddingCacheEntity> EmbeddingCache => Set<EmbeddingCacheEntity>();

    public DbSet<IndexOperationEntity> IndexOperations => Set<IndexOperationEntity>();

    public DbSet<RunEntity> Runs => Set<RunEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TenantEntity>(e =>
        {
            e.ToTable("tenants");
            e.HasKey(t => t.Id);
            e.Property(t => t.Id).HasMaxLength(128);
        });

        modelBuilder.Entity<SourceEntity>(e =>
        {
            e.ToTable("sources");
            e.HasKey(s => s.Id);
            e.Property(s => s.TenantId).HasMaxLength(128);
            e.Property(s => s.Name).HasMaxLength(256);
            e.Property(s => s.Kind).HasConversion<string>().HasMaxLength(16);
            e.HasIndex(s => new { s.TenantId, s.Name }).IsUnique();
            e.HasOne<TenantEntity>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<DocumentEntity>(e =>
        {
            e.ToTable("documents");
            e.HasKey(d => d.Id);
            e.Property(d => d.TenantId).HasMaxLength(128);
            e.Property(d => d.ExternalKeyHash).HasMaxLength(64);
            e.Property(d => d.ContentHash).HasMaxLength(64);
            e.Property(d => d.FailedContentHash).HasMaxLength(64);
            e.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
            e.Property(d => d.FailureKind).HasConversion<string>().HasMaxLength(32);
            e.HasIndex(d => new { d.SourceId, d.ExternalKeyHash }).IsUnique();
            e.HasIndex(d => new { d.TenantId, d.State });
            e.HasOne<SourceEntity>().WithMany().HasForeignKey(d => d.SourceId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<DocumentVersionEntity>(e =>
        {
            e.ToTable("document_versions");
            e.HasKey(v => new { v.DocumentId, v.Version });
            e.Property(v => v.ContentHash).HasMaxLength(64);
            e.Property(v => v.Format).HasMaxLength(32);
            e.Property(v => v.State).HasConversion<string>().HasMaxLength(16);
            e.Property(v => v.EmbeddingModel).HasMaxLength(256);
            e.HasOne<DocumentEntity>().WithMany().HasForeignKey(v => v.DocumentId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ChunkEntity>(e =>
        {
            e.ToTable("chunks");
            e.HasKey(c => c.Id);
            e.Property(c => c.Id).HasMaxLength(64);
            e.Property(c => c.ContentHash).HasMaxLength(64);
            e.HasIndex(c => new { c.DocumentId, c.Version });
            e.HasOne<DocumentEntity>().WithMany().HasForeignKey(c => c.DocumentId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<EmbeddingCacheEntity>(e =>
        {
            e.ToTable("embedding_cache");
            e.HasKey(c => new { c.ModelId, c.ContentHash });
            e.Property(c => c.ModelId).HasMaxLength(256);
            e.Property(c => c.ContentHash).HasMaxLength(64);
        });

        modelBuilder.Entity<IndexOperationEntity>(e =>
        {
            e.ToTable("index_operations");
            e.HasKey(o => o.Id);
            e.Property(o => o.Kind).HasConversion<string>().HasMaxLength(16);
            e.HasIndex(o => o.DocumentId);
        });

        modelBuilder.Entity<RunEntity>(e =>
        {
            e.ToTable("runs");
            e.HasKey(r => r.Id);
            e.Property(r => r.TenantId).HasMaxLength(128);
            e.Property(r => r.Trigger).HasMaxLength(64);
            e.Property(r => r.Status).HasMaxLength(16);
            e.Property(r => r.JobId).HasMaxLength(64);
            e.HasIndex(r => r.JobId);
            e.HasIndex(r => new { r.SourceId, r.StartedAt });
        });
    }
}

/// <summary>SQLite: one file under the data directory.</summary>
internal sealed class SqliteMetadataDbContext(DbContextOptions<SqliteMetadataDbContext> options) : MetadataDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no date type: stored as sortable integers so that ORDER BY and comparisons run in SQL.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>PostgreSQL: timestamps are timestamptz (always UTC).</summary>
internal sealed class PostgresMetadataDbContext(DbContextOptions<PostgresMetadataDbContext> options) : MetadataDbContext(options);
