using System.Globalization;
using System.Text;
using RagPlatform.Core.Documents;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// CSV and TSV (RFC 4180 quoting) with a header row: one Record block per data row, as
/// <c>column: value</c> lines with empty values left out, so that a chunk of a row says what each value means.
/// </summary>
internal static class CsvParser
{
    public static ParsedDocument Parse(string text, char? delimiter, string subject)
    {
        var reader = new Reader(text, delimiter ?? DetectDelimiter(text), subject);
        var header = reader.ReadRecord();
        while (header is not null && IsBlankRow(header))
        {
            header = reader.ReadRecord();
        }

        if (header is null)
        {
            throw new DocumentRejectedException(FailureKind.Empty, $"{subject} has no rows; a CSV file needs a header row and at least one data row.");
        }

        var names = ColumnNames(header);
        var builder = new NormalizedTextBuilder(text.Length + (text.Length / 2) + 16);
        var lines = new StringBuilder();
        while (reader.ReadRecord() is { } row)
        {
            lines.Clear();
            for (var i = 0; i < row.Count; i++)
            {
                var value = TextNormalizer.NormalizeLine(row[i]);
                if (value.Length == 0)
                {
                    continue;
                }

                var name = i < names.Count ? names[i] : ColumnName(i);
                lines.Append(lines.Length > 0 ? "\n" : string.Empty).Append(name).Append(": ").Append(value);
            }

            builder.Add(BlockKind.Record, lines.ToString());
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["columns"] = string.Join(", ", names) };
        return builder.Build(
            FileFormat.Csv,
            title: null,
            metadata,
            pageCount: null,
            $"{subject} has a header row but no data rows with values; there is nothing to index.");
    }

    /// <summary>The delimiter that occurs most often, outside quotes, in the header line (comma on a tie).</summary>
    internal static char DetectDelimiter(string text)
    {
        int commas = 0, semicolons = 0, tabs = 0;
        var quoted = false;
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, 64 * 1024)))
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted)
            {
                if (c is '\n' or '\r')
                {
                    break;
                }

                commas += c == ',' ? 1 : 0;
                semicolons += c == ';' ? 1 : 0;
                tabs += c == '\t' ? 1 : 0;
            }
        }

        return tabs > commas && tabs > semicolons ? '\t' : semicolons > commas ? ';' : ',';
    }

    private static bool IsBlankRow(List<string> row) => row.TrueForAll(string.IsNullOrWhiteSpace);

    private static string ColumnName(int index) => $"column {(index + 1).ToString(CultureInfo.InvariantCulture)}";

    private static List<string> ColumnNames(List<string> header)
    {
        var names = new List<string>(header.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < header.Count; i++)
        {
            var name = TextNormalizer.NormalizeLine(header[i]);
            if (name.Length == 0)
            {
                name = ColumnName(i);
            }

            var unique = name;
            for (var n = 2; !seen.Add(unique); n++)
            {
                unique = $"{name} ({n.ToString(CultureInfo.InvariantCulture)})";
            }

            names.Add(unique);
        }

        return names;
    }

    private sealed class Reader(string text, char delimiter, string subject)
    {
        private readonly StringBuilder _field = new();
        private int _position;
        private int _line = 1;

        /// <summary>The next record's fields, or null at the end of the text.</summary>
        public List<string>? ReadRecord()
        {
            if (_position >= text.Length)
            {
                return null;
            }

            var fields = new List<string>();
            while (true)
            {
                if (text[_position] == '"')
                {
                    fields.Add(ReadQuoted());
                }
                else
                {
                    var end = text.AsSpan(_position).IndexOfAny(delimiter, '\r', '\n');
                    end = end < 0 ? text.Length : _position + end;
                    fields.Add(text[_position..end]);
                    _position = end;
                }

                if (_position >= text.Length)
                {
                    return fields;
                }

                var c = text[_position++];
                if (c == delimiter)
                {
                    if (_position >= text.Length)
                    {
                        fields.Add(string.Empty);
                        return fields;
                    }

                    continue;
                }

                if (c == '\r' && _position < text.Length && text[_position] == '\n')
                {
                    _position++;
                }

                _line++;
                return fields;
            }
        }

        private string ReadQuoted()
        {
            var startLine = _line;
            _field.Clear();
            _position++;
            while (true)
            {
                var close = text.IndexOf('"', _position);
                if (close < 0)
                {
                    throw new DocumentRejectedException(
                        FailureKind.Corrupt,
                        $"{subject} has a quoted field starting at line {startLine.ToString(CultureInfo.InvariantCulture)} that is never closed " +
                        "(a missing '\"'). Fix the quoting (a quote inside a quoted field is written as \"\") and add the file again.");
                }

                _field.Append(text, _position, close - _position);
                _line += text.AsSpan(_position, close - _position).Count('\n');
                _position = close + 1;
                if (_position < text.Length && text[_position] == '"')
                {
                    _field.Append('"');
                    _position++;
                    continue;
                }

                break;
            }

            // Tolerate stray characters between the closing quote and the delimiter, as spreadsheets do.
            while (_position < text.Length && text[_position] != delimiter && text[_position] is not ('\r' or '\n'))
            {
                _field.Append(text[_position++]);
            }

            return _field.ToString();
        }
    }
}
