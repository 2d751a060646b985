using System.Globalization;
using System.Text;
using System.Text.Json;
using RagPlatform.Core.Documents;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// A JSON file is one document whose records keep their structure: a top-level array gives one
/// Record block per element; a top-level object gives one Record for its scalar fields (arrays of
/// scalars included, as one line) and one per object- or array-valued field. Inside a record, values
/// are flattened to <c>path.to.field: value</c> lines.
/// </summary>
internal static class JsonParser
{
    /// <summary>Deeper nesting is not data anyone writes by hand; it guards the recursion below.</summary>
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions Options = new()
    {
        MaxDepth = MaxDepth,
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static ParsedDocument Parse(string text, string subject)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text.AsMemory(), Options);
        }
        catch (JsonException ex)
        {
            throw new DocumentRejectedException(FailureKind.Corrupt, $"{subject} is not valid JSON: {Describe(ex)}. Fix the file (a JSON linter shows the spot) and add it again.", ex);
        }

        using (document)
        {
            var builder = new NormalizedTextBuilder(text.Length + 16);
            var root = document.RootElement;
            var lines = new StringBuilder();
            string? title = null;
            switch (root.ValueKind)
            {
                case JsonValueKind.Array:
                    foreach (var element in root.EnumerateArray())
                    {
                        lines.Clear();
                        Flatten(element, string.Empty, lines);
                        builder.Add(BlockKind.Record, lines.ToString());
                    }

                    break;
                case JsonValueKind.Object:
                    lines.Clear();
                    foreach (var property in root.EnumerateObject())
                    {
                        if (IsScalarOrScalarArray(property.Value))
                        {
                            Flatten(property.Value, property.Name, lines);
                        }

                        if (title is null && property.Value.ValueKind == JsonValueKind.String
                            && (property.NameEquals("title") || property.NameEquals("name")))
                        {
                            title = property.Value.GetString();
                        }
                    }

                    builder.Add(BlockKind.Record, lines.ToString());
                    foreach (var property in root.EnumerateObject())
                    {
                        if (!IsScalarOrScalarArray(property.Value))
                        {
                            lines.Clear();
                            Flatten(property.Value, property.Name, lines);
                            builder.Add(BlockKind.Record, lines.ToString());
                        }
                    }

                    break;
                default:
                    Flatten(root, string.Empty, lines);
                    builder.Add(BlockKind.Record, lines.ToString());
                    break;
            }

            return builder.Build(
                FileFormat.Json,
                title,
                metadata: null,
                pageCount: null,
                $"{subject} holds no values to index (only empty objects, empty arrays, nulls or empty strings).");
        }
    }

    private static bool IsScalarOrScalarArray(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            return false;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return true;
        }

        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                return false;
            }
        }

        return true;
    }

    private static void Flatten(JsonElement value, string path, StringBuilder lines)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    Flatten(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", lines);
                }

                break;
            case JsonValueKind.Array when IsScalarOrScalarArray(value):
                var joined = new StringBuilder();
                foreach (var item in value.EnumerateArray())
                {
                    var scalar = Scalar(item);
                    if (scalar.Length > 0)
                    {
                        joined.Append(joined.Length > 0 ? ", " : string.Empty).Append(scalar);
                    }
                }

                AppendLine(lines, path, joined.ToString());
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Flatten(item, $"{path}[{index.ToString(CultureInfo.InvariantCulture)}]", lines);
                    index++;
                }

                break;
            default:
                AppendLine(lines, path, Scalar(value));
                break;
        }
    }

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => TextNormalizer.NormalizeLine(value.GetString()),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => string.Empty,
    };

    private static void AppendLine(StringBuilder lines, string path, string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (lines.Length > 0)
        {
            lines.Append('\n');
        }

        if (path.Length > 0)
        {
            lines.Append(path).Append(": ");
        }

        lines.Append(value);
    }

    private static string Describe(JsonException ex)
    {
        var reason = ex.Message;
        var cut = reason.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        if (cut > 0)
        {
            reason = reason[..cut];
        }

        if (reason.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase))
        {
            reason = $"it is nested deeper than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels";
        }

        var where = ex.LineNumber is { } line
            ? $"at line {(line + 1).ToString(CultureInfo.InvariantCulture)}, byte {((ex.BytePositionInLine ?? 0) + 1).ToString(CultureInfo.InvariantCulture)}"
            : "at an unknown position";
        return $"{reason.TrimEnd('.')} ({where})";
    }
}
