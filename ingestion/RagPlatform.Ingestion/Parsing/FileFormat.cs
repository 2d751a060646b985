namespace RagPlatform.Ingestion.Parsing;

/// <summary>The document formats the parser reads; <see cref="ParsedDocument.Format"/> is the lower-case wire name.</summary>
public enum FileFormat
{
    Text,
    Markdown,
    Html,
    Pdf,
    Docx,
    Json,

    /// <summary>Comma-, semicolon- or tab-separated values (TSV included).</summary>
    Csv,
}

public static class FileFormatExtensions
{
    /// <summary>The stable name stored with a document: <c>text</c>, <c>markdown</c>, <c>html</c>, <c>pdf</c>, <c>docx</c>, <c>json</c>, <c>csv</c>.</summary>
    public static string ToWireName(this FileFormat format) => format switch
    {
        FileFormat.Text => "text",
        FileFormat.Markdown => "markdown",
        FileFormat.Html => "html",
        FileFormat.Pdf => "pdf",
        FileFormat.Docx => "docx",
        FileFormat.Json => "json",
        FileFormat.Csv => "csv",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown document format."),
    };
}
