using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using RagPlatform.Core.Documents;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// Turns the bytes of a text document into a string: UTF-8 with or without BOM, UTF-16 LE/BE with
/// BOM, or a single-byte charset the caller declared in the content type when the bytes are not UTF-8.
/// Nothing is ever guessed or replaced silently: invalid bytes are rejected with their offset.
/// </summary>
internal static class TextDecoder
{
    private static readonly UnicodeEncoding StrictUtf16Le = new(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true);
    private static readonly UnicodeEncoding StrictUtf16Be = new(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true);

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static ReadOnlySpan<byte> Utf16LeBom => [0xFF, 0xFE];

    private static ReadOnlySpan<byte> Utf16BeBom => [0xFE, 0xFF];

    private static ReadOnlySpan<byte> Utf32LeBom => [0xFF, 0xFE, 0x00, 0x00];

    private static ReadOnlySpan<byte> Utf32BeBom => [0x00, 0x00, 0xFE, 0xFF];

    public static string Decode(ReadOnlySpan<byte> content, string? charset, string subject)
    {
        if (content.StartsWith(Utf8Bom))
        {
            return DecodeUtf8(content[3..], 3, subject);
        }

        if (content.StartsWith(Utf32LeBom) || content.StartsWith(Utf32BeBom))
        {
            throw new DocumentRejectedException(
                FailureKind.InvalidEncoding,
                $"{subject} is encoded as UTF-32, which is not supported. Re-save it as UTF-8.");
        }

        if (content.StartsWith(Utf16LeBom))
        {
            return DecodeUtf16(content[2..], StrictUtf16Le, "UTF-16 LE", subject);
        }

        if (content.StartsWith(Utf16BeBom))
        {
            return DecodeUtf16(content[2..], StrictUtf16Be, "UTF-16 BE", subject);
        }

        var nul = content.IndexOf((byte)0);
        if (nul >= 0)
        {
            throw new DocumentRejectedException(
                FailureKind.Unsupported,
                $"{subject} contains binary data (a NUL byte at offset {nul.ToString(CultureInfo.InvariantCulture)}), so it is not a text document. " +
                "If it is UTF-16 text without a byte-order mark, re-save it as UTF-8; otherwise convert it to a supported format " +
                "(text, Markdown, HTML, PDF, DOCX, JSON or CSV).");
        }

        if (Utf8.IsValid(content))
        {
            return Encoding.UTF8.GetString(content);
        }

        // Not UTF-8: honour a single-byte charset the source declared (HTTP servers send Latin-1 pages),
        // but never guess one: a wrong guess would index mojibake without anyone noticing.
        var declared = DeclaredEncoding(charset);
        if (declared is not null)
        {
            return declared.GetString(content);
        }

        return DecodeUtf8(content, 0, subject);
    }

    private static Encoding? DeclaredEncoding(string? charset)
    {
        if (string.IsNullOrWhiteSpace(charset))
        {
            return null;
        }

        try
        {
            var encoding = Encoding.GetEncoding(charset.Trim().Trim('"'));
            return encoding.IsSingleByte ? encoding : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> content, int skipped, string subject)
    {
        if (Utf8.IsValid(content))
        {
            return Encoding.UTF8.GetString(content);
        }

        var buffer = ArrayPool<char>.Shared.Rent(content.Length);
        try
        {
            Utf8.ToUtf16(content, buffer, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            var offset = skipped + read;
            var line = content[..read].Count((byte)'\n') + 1;
            var bad = content[read];
            throw new DocumentRejectedException(
                FailureKind.InvalidEncoding,
                $"{subject} is not valid UTF-8: the byte 0x{bad:X2} at offset {offset.ToString(CultureInfo.InvariantCulture)} (line {line.ToString(CultureInfo.InvariantCulture)}) " +
                "does not form a valid character. It is probably in a legacy encoding such as Windows-1252 or Latin-1; re-save it as UTF-8.");
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static string DecodeUtf16(ReadOnlySpan<byte> content, UnicodeEncoding encoding, string name, string subject)
    {
        try
        {
            if (content.Length % 2 != 0)
            {
                throw new DecoderFallbackException("odd length", [content[^1]], content.Length - 1);
            }

            return encoding.GetString(content);
        }
        catch (DecoderFallbackException ex)
        {
            var offset = Math.Max(0, ex.Index) + 2;
            throw new DocumentRejectedException(
                FailureKind.InvalidEncoding,
                $"{subject} starts with a {name} byte-order mark but is not valid {name}: the bytes at offset {offset.ToString(CultureInfo.InvariantCulture)} " +
                "do not form a valid character (or the file is cut short). Re-save it as UTF-8.",
                ex);
        }
    }
}
