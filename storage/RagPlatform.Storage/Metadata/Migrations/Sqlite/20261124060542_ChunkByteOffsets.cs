using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace RagPlatform.Storage.Metadata.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ChunkByteOffsets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "ByteEnd",
                table: "chunks",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "ByteStart",
                table: "chunks",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ByteEnd",
                table: "chunks");

            migrationBuilder.DropColumn(
                name: "ByteStart",
                table: "chunks");
        }
    }
}
