using System.Globalization;
using System.Text.Json;
using Lucene.Net.Documents;
using Lucene.Net.Util;
using RagPlatform.Core.Indexing;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>
/// Builds the Lucene document of a chunk (see <see cref="ChunkFields"/> for the layout), reusing its
/// field instances from one chunk to the next, as Lucene recommends: a new exact-value field costs a
/// token stream whose attributes Lucene.Net looks up under a global lock, which was a third of the
/// indexing time. Not thread-safe; the index uses one builder under its write lock, and the document
/// it returns is valid until the next call.
/// </summary>
internal sealed class ChunkDocumentBuilder(KeywordFieldLayout layout)
{
    /// <summary>Distinct metadata keys whose fields are kept for reuse; past this, fields are made afresh.</summary>
    private const int MaxReusedMetadataKeys = 1024;

    private readonly StringField _chunkId = new(ChunkFields.ChunkId, string.Empty, Field.Store.YES);
    private readonly BinaryDocValuesField _chunkIdValue = new(ChunkFields.ChunkId, new BytesRef());
    private readonly StringField _documentId = new(ChunkFields.DocumentId, string.Empty, Field.Store.YES);
    private readonly BinaryDocValuesField _documentIdValue = new(ChunkFields.DocumentId, new BytesRef());
    private readonly StringField _documentVersion = new(ChunkFields.DocumentVersion, string.Empty, Field.Store.NO);
    private readonly StoredField _version = new(ChunkFields.Version, 0);
    private readonly NumericDocValuesField _versionValue = new(ChunkFields.Version, 0L);
    private readonly StringField _tenant = new(ChunkFields.Tenant, string.Empty, Field.Store.YES);
    private readonly StringField _source = new(ChunkFields.Source, string.Empty, Field.Store.YES);
    private readonly TextField _title = new(ChunkFields.Title, string.Empty, Field.Store.YES);
    private readonly Field _body = layout == KeywordFieldLayout.Separate
        ? new TextField(ChunkFields.Body, string.Empty, Field.Store.YES)
        : new StoredField(ChunkFields.Body, string.Empty);

    // The title is searched as part of the chunk's text, as if it were its first line.
    private readonly TextField _content = new(ChunkFields.Content, string.Empty, Field.Store.NO);
    private readonly Int64Field _changedAt = new(ChunkFields.ChangedAt, 0L, Field.Store.NO);
    private readonly StoredField _changedAtText = new(ChunkFields.ChangedAtText, string.Empty);
    private readonly StoredField _metadata = new(ChunkFields.Metadata, string.Empty);
    private readonly List<StringField> _acl = [];
    private readonly Dictionary<string, MetadataFields> _metadataFields = new(StringComparer.Ordinal);

    public Document Build(IndexedChunk chunk)
    {
        _chunkId.SetStringValue(chunk.ChunkId);
        _chunkIdValue.SetBytesValue(new BytesRef(chunk.ChunkId));
        _documentId.SetStringValue(ChunkFields.Key(chunk.DocumentId));
        _documentIdValue.SetBytesValue(ChunkFields.GuidBytes(chunk.DocumentId));
        _documentVersion.SetStringValue(ChunkFields.KeyOf(chunk.DocumentId, chunk.Version));
        _version.SetInt32Value(chunk.Version);
        _versionValue.SetInt64Value(chunk.Version);
        _tenant.SetStringValue(chunk.Tenant);
        _source.SetStringValue(ChunkFields.Key(chunk.SourceId));
        _title.SetStringValue(chunk.Title);
        _body.SetStringValue(chunk.Text);
        var doc = new Document
        {
            _chunkId, _chunkIdValue, _documentId, _documentIdValue, _documentVersion, _version, _versionValue,
            _tenant, _source, _title, _body,
        };

        if (layout != KeywordFieldLayout.Separate)
        {
            _content.SetStringValue(chunk.Title + "\n" + chunk.Text);
            doc.Add(_content);
        }

        for (var i = 0; i < chunk.Acl.Count; i++)
        {
            if (i == _acl.Count)
            {
                _acl.Add(new StringField(ChunkFields.Acl, string.Empty, Field.Store.YES));
            }

            _acl[i].SetStringValue(chunk.Acl[i]);
            doc.Add(_acl[i]);
        }

        if (chunk.ChangedAt is { } changed)
        {
            _changedAt.SetInt64Value(changed.UtcTicks);
            _changedAtText.SetStringValue(changed.ToString("O", CultureInfo.InvariantCulture));
            doc.Add(_changedAt);
            doc.Add(_changedAtText);
        }

        if (chunk.Metadata.Count > 0)
        {
            _metadata.SetStringValue(JsonSerializer.Serialize(chunk.Metadata, KeywordJson.Default.IReadOnlyDictionaryStringString));
            doc.Add(_metadata);
            foreach (var (key, value) in chunk.Metadata)
            {
                AddMetadata(doc, key, value);
            }
        }

        return doc;
    }

    private void AddMetadata(Document doc, string key, string value)
    {
        if (!_metadataFields.TryGetValue(key, out var fields))
        {
            fields = new MetadataFields(key);
            if (_metadataFields.Count < MaxReusedMetadataKeys)
            {
                _metadataFields[key] = fields;
            }
        }

        var encoded = ChunkFields.OrdinalKey(value);
        fields.Exact.SetStringValue(encoded);
        doc.Add(fields.Exact);
        if (MetadataFilter.TryParseNumber(value, out var number))
        {
            fields.Number.SetDoubleValue(ChunkFields.NormaliseNumber(number));
            doc.Add(fields.Number);
        }
        else
        {
            fields.Text.SetStringValue(encoded);
            doc.Add(fields.Text);
        }
    }

    private sealed class MetadataFields(string key)
    {
        public StringField Exact { get; } = new(ChunkFields.MetadataExactPrefix + key, string.Empty, Field.Store.NO);

        public DoubleField Number { get; } = new(ChunkFields.MetadataNumberPrefix + key, 0d, Field.Store.NO);

        public StringField Text { get; } = new(ChunkFields.MetadataTextPrefix + key, string.Empty, Field.Store.NO);
    }
}
