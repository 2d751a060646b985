using System.Globalization;
using System.Text;
using System.Text.Json;
using Lucene.Net.Documents;
using Lucene.Net.Util;
using RagPlatform.Core;
using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>
/// How one chunk is laid out as a Lucene document, and back. Identity is also kept in doc values,
/// so that hits are resolved without loading stored fields; everything else is stored so that an
/// access update can re-add a chunk with nothing but the index itself.
/// </summary>
internal static class ChunkFields
{
    public const string ChunkId = "id";
    public const string DocumentId = "doc";
    public const string DocumentVersion = "docver";
    public const string Version = "ver";
    public const string Tenant = "tenant";
    public const string Source = "source";
    public const string Acl = "acl";
    public const string Title = "title";
    public const string Body = "body";
    public const string Content = "content";
    public const string ChangedAt = "changed";
    public const string ChangedAtText = "changed_text";
    public const string Metadata = "meta";

    /// <summary>Exact value of a metadata key (ordinal-key encoded), for equality and for ordinal ranges of numeric values.</summary>
    public const string MetadataExactPrefix = "m.";

    /// <summary>Numeric copy of a metadata value that parses as a number.</summary>
    public const string MetadataNumberPrefix = "n.";

    /// <summary>Copy of a metadata value that does not parse as a number: always compared ordinally.</summary>
    public const string MetadataTextPrefix = "s.";

    /// <summary>Lucene rejects longer terms ("immense term").</summary>
    private const int MaxTermBytes = 32766;

    public static string Key(Guid id) => id.ToString("N", CultureInfo.InvariantCulture);

    public static string KeyOf(Guid documentId, int version) => FormattableString.Invariant($"{documentId:N}/{version}");

    public static BytesRef GuidBytes(Guid id) => new(id.ToByteArray());

    /// <summary>Metadata numbers normalised so that -0 equals 0, as <see cref="double.CompareTo(double)"/> says.</summary>
    public static double NormaliseNumber(double value) => value == 0 ? 0.0 : value;

    /// <summary>
    /// Maps a string so that Lucene's term order (UTF-8 bytes, i.e. code points) equals
    /// <see cref="string.CompareOrdinal(string, string)"/> (UTF-16 code units): the two orders differ only
    /// for code units from U+D800 up, which are moved above every BMP character, keeping their order.
    /// Injective, so it also serves for equality, and it never leaves a lone surrogate behind.
    /// </summary>
    public static string OrdinalKey(string value)
    {
        if (value.AsSpan().IndexOfAnyInRange('\uD800', '\uFFFF') < 0)
        {
            return value;
        }

        var sb = new StringBuilder(value.Length + 16);
        foreach (var c in value)
        {
            if (c < '\uD800')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append(char.ConvertFromUtf32(0x10000 + (c - 0xD800)));
            }
        }

        return sb.ToString();
    }

    /// <summary>Rejects what Lucene would refuse halfway through a batch, naming the chunk and the field.</summary>
    public static void Validate(IndexedChunk chunk)
    {
        if (string.IsNullOrEmpty(chunk.ChunkId))
        {
            throw new RagValidationException("chunk_id", $"a chunk of document {chunk.DocumentId} version {chunk.Version} has no id; derive it with ChunkIds.Create");
        }

        if (string.IsNullOrEmpty(chunk.Tenant))
        {
            throw new RagValidationException("tenant", $"chunk {chunk.ChunkId} has no tenant");
        }

        CheckTermLength(chunk, "chunk_id", chunk.ChunkId);
        CheckTermLength(chunk, "tenant", chunk.Tenant);
        foreach (var principal in chunk.Acl)
        {
            if (string.IsNullOrEmpty(principal))
            {
                throw new RagValidationException("acl", $"chunk {chunk.ChunkId} has an empty principal in its ACL");
            }

            CheckTermLength(chunk, "acl", principal);
        }

        foreach (var (key, value) in chunk.Metadata)
        {
            CheckTermLength(chunk, "metadata." + key, OrdinalKey(value));
        }
    }

    /// <summary>A one-off document; writers reuse a <see cref="ChunkDocumentBuilder"/> instead.</summary>
    public static Document Create(IndexedChunk chunk, KeywordFieldLayout layout) => new ChunkDocumentBuilder(layout).Build(chunk);

    /// <summary>Rebuilds the chunk stored in <paramref name="doc"/>, with <paramref name="acl"/> in place of its ACL.</summary>
    public static IndexedChunk Restore(Document doc, IReadOnlyList<string> acl)
    {
        var metadataJson = doc.Get(Metadata);
        var changedText = doc.Get(ChangedAtText);
        return new IndexedChunk
        {
            ChunkId = doc.Get(ChunkId),
            DocumentId = Guid.ParseExact(doc.Get(DocumentId), "N"),
            Version = doc.GetField(Version).GetInt32Value() ?? 0,
            Tenant = doc.Get(Tenant),
            SourceId = Guid.ParseExact(doc.Get(Source), "N"),
            Acl = acl,
            Title = doc.Get(Title) ?? string.Empty,
            Text = doc.Get(Body) ?? string.Empty,
            Metadata = metadataJson is null
                ? IndexedChunk.EmptyMetadata
                : JsonSerializer.Deserialize(metadataJson, KeywordJson.Default.DictionaryStringString) ?? IndexedChunk.EmptyMetadata,
            ChangedAt = changedText is null ? null : DateTimeOffset.ParseExact(changedText, "O", CultureInfo.InvariantCulture),
        };
    }

    private static void CheckTermLength(IndexedChunk chunk, string field, string value)
    {
        if (Encoding.UTF8.GetByteCount(value) > MaxTermBytes)
        {
            throw new RagValidationException(field, $"chunk {chunk.ChunkId} of document {chunk.DocumentId}: the value is longer than {MaxTermBytes} UTF-8 bytes, which the keyword index cannot hold as an exact term; shorten it");
        }
    }
}
