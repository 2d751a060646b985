using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace RagPlatform.Storage.Metadata.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class StagedVersionsAndJobRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "JobId",
                table: "runs",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "EmbeddingModel",
                table: "document_versions",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "HeaderJson",
                table: "document_versions",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateIndex(
                name: "IX_runs_JobId",
                table: "runs",
                column: "JobId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_runs_JobId",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "JobId",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "EmbeddingModel",
                table: "document_versions");

            migrationBuilder.DropColumn(
                name: "HeaderJson",
                table: "document_versions");
        }
    }
}
