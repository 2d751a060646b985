namespace RagPlatform.Ingestion.Parsing;

/// <summary>The document formats the parser reads; <see cref="ParsedDocument.Format"/> is the lower-case wire name.</summary>
public enum DocumentFormat
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

public static class DocumentFormatExtensions
{
    /// <summary>The stable name stored with a document: <c>text</c>, <c>markdown</c>, <c>html</c>, <c>pdf</c>, <c>docx</c>, <c>json</c>, <c>csv</c>.</summary>
    public static string ToWireName(this DocumentFormat format) => format switch
    {
        DocumentFormat.Text => "text",
        DocumentFormat.Markdown => "markdown",
        DocumentFormat.Html => "html",
        DocumentFormat.Pdf => "pdf",
        DocumentFormat.Docx => "docx",
        DocumentFormat.Json => "json",
        DocumentFormat.Csv => "csv",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown document format."),
    };
}
