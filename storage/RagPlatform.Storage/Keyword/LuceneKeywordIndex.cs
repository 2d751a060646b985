using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using RagPlatform.Core;
using RagPlatform.Core.Indexing;
using RagPlatform.Storage.Keyword.Internal;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace RagPlatform.Storage.Keyword;

/// <summary>
/// BM25 keyword index of chunks on Lucene.Net, in one directory owned by one process. Each batch is
/// one Lucene commit (atomic and durable); searchers are refreshed only after a commit, so a search
/// running during a write sees the state before or after the whole batch, never half of it.
/// Filters (tenant, ACL, sources, documents, change time, metadata) restrict the search inside Lucene.
/// </summary>
public sealed class LuceneKeywordIndex : IKeywordIndex, IDisposable
{
    private const string AnalysisKey = "rag.keyword.analysis";

    /// <summary>
    /// Held open with <see cref="FileShare.None"/> while the index is open. Lucene.Net's own write.lock
    /// does not stop a second process on Linux (measured: two processes opened one index), so this
    /// lock, which .NET enforces across processes with flock, is what keeps a second writer out.
    /// </summary>
    private const string ProcessLockFile = "rag-keyword.lock";

    private readonly string _path;
    private readonly FileStream _processLock;
    private readonly LuceneDirectory _directory;
    private readonly KeywordIndexOptions _options;
    private readonly EnglishChunkAnalyzer _analyzer;
    private readonly ExactLengthBm25Similarity _similarity;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly AccessFilterCache _accessFilters = new();
    private readonly PostingsCache _postings = new(PostingsCache.DefaultCapacityBytes);
    private readonly (string Field, float Weight)[] _searchedFields;
    private readonly ChunkDocumentBuilder _documents;
    private volatile Engine _engine;
    private volatile bool _disposed;

    private LuceneKeywordIndex(string path, FileStream processLock, LuceneDirectory directory, KeywordIndexOptions options, EnglishChunkAnalyzer analyzer, ExactLengthBm25Similarity similarity, Engine engine)
    {
        _path = path;
        _processLock = processLock;
        _directory = directory;
        _options = options;
        _analyzer = analyzer;
        _similarity = similarity;
        _engine = engine;

        // The body field holds the title too (Combined) or not (Separate); the title alone adds its weight on top.
        var body = (options.Layout == KeywordFieldLayout.Separate ? ChunkFields.Body : ChunkFields.Content, 1f);
        _searchedFields = options.TitleWeight > 0 ? [body, (ChunkFields.Title, options.TitleWeight)] : [body];
        _documents = new ChunkDocumentBuilder(options.Layout);
    }

    /// <summary>Runs between writing a batch and committing it; tests use it to fail a batch halfway.</summary>
    internal Action? BeforeCommit { get; set; }

    /// <summary>Number of live chunks in the last committed state.</summary>
    public long Count
    {
        get
        {
            using var lease = Acquire();
            return lease.Searcher.IndexReader.NumDocs;
        }
    }

    /// <summary>
    /// Opens the index in <paramref name="directory"/>, creating it when it does not exist. Only one
    /// process can hold an index open; a second one gets an <see cref="IOException"/> saying so.
    /// </summary>
    public static LuceneKeywordIndex Open(string directory, KeywordIndexOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new KeywordIndexOptions();
        options.Validate();
        var path = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(path);

        var processLock = LockProcess(path);
        var analyzer = new EnglishChunkAnalyzer(options.Stemmer, options.StopWords, options.FoldToAscii);
        var signature = analyzer.Signature + "|layout=" + options.Layout;
        var similarity = new ExactLengthBm25Similarity(options.K1, options.B);
        LuceneDirectory? luceneDirectory = null;
        Engine? engine = null;
        try
        {
            luceneDirectory = FSDirectory.Open(path);
            engine = Engine.Open(path, luceneDirectory, analyzer, similarity, options);
            CheckOrRecordAnalysis(path, engine.Writer, signature);
            return new LuceneKeywordIndex(path, processLock, luceneDirectory, options, analyzer, similarity, engine);
        }
        catch
        {
            engine?.Dispose();
            luceneDirectory?.Dispose();
            analyzer.Dispose();
            processLock.Dispose();
            throw;
        }
    }

    public async Task ApplyAsync(IndexBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var chunk in batch.Upserts)
        {
            ChunkFields.Validate(chunk);
        }

        foreach (var update in batch.AccessUpdates)
        {
            if (update.Acl.Any(string.IsNullOrEmpty))
            {
                throw new RagValidationException("acl", $"the access update of document {update.DocumentId} has an empty principal");
            }
        }

        if (batch.IsEmpty)
        {
            return;
        }

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            cancellationToken.ThrowIfCancellationRequested();
            var engine = _engine;
            try
            {
                Write(engine.Writer, batch);
                BeforeCommit?.Invoke();
                engine.Writer.Commit();
            }
            catch (Exception failure)
            {
                // Whatever of the batch reached the writer must never ride along with a later commit.
                try
                {
                    _engine = engine.RollBackAndReopen(_path, _directory, _analyzer, _similarity, _options);
                }
                catch (Exception reopen)
                {
                    throw new IOException(
                        $"the keyword index at {_path} failed to apply a batch ({failure.Message}) and could not be reopened afterwards ({reopen.Message}); " +
                        "nothing of the batch was committed; restart the process",
                        new AggregateException(failure, reopen));
                }

                throw;
            }

            engine.Searchers.MaybeRefreshBlocking();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public ValueTask<IReadOnlyList<ScoredChunk>> SearchAsync(string queryText, SearchFilter filter, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queryText);
        ArgumentNullException.ThrowIfNull(filter);
        if (limit < 1)
        {
            throw new RagValidationException("limit", $"is {limit}; ask for at least one result");
        }

        if (string.IsNullOrEmpty(filter.Tenant))
        {
            throw new RagValidationException("tenant", "is empty; every search is scoped to one tenant");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var terms = _analyzer.AnalyzeQuery(queryText, _options.MaxQueryTerms);
        if (terms.Count == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<ScoredChunk>>([]);
        }

        using var lease = Acquire();
        var searcher = lease.Searcher;
        var luceneFilter = KeywordFilters.Filter(filter, _accessFilters, searcher.IndexReader.MaxDoc);
        if (luceneFilter is null)
        {
            return ValueTask.FromResult<IReadOnlyList<ScoredChunk>>([]);
        }

        var scoreDocs = Bm25Searcher.Search(searcher, _similarity, terms, _searchedFields, luceneFilter, Math.Min(limit, Math.Max(1, searcher.IndexReader.MaxDoc)), _postings);
        if (scoreDocs.Length == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<ScoredChunk>>([]);
        }

        var leaves = searcher.IndexReader.Leaves;
        var hits = new ScoredChunk[scoreDocs.Length];
        var bytes = new BytesRef();
        for (var i = 0; i < hits.Length; i++)
        {
            var hit = scoreDocs[i];
            var leaf = leaves[ReaderUtil.SubIndex(hit.Doc, leaves)];
            var reader = leaf.AtomicReader;
            var doc = hit.Doc - leaf.DocBase;
            reader.GetBinaryDocValues(ChunkFields.ChunkId).Get(doc, bytes);
            var chunkId = bytes.Utf8ToString();
            reader.GetBinaryDocValues(ChunkFields.DocumentId).Get(doc, bytes);
            var documentId = new Guid(bytes.Bytes.AsSpan(bytes.Offset, bytes.Length));
            var version = (int)reader.GetNumericDocValues(ChunkFields.Version).Get(doc);
            hits[i] = new ScoredChunk(chunkId, documentId, version, hit.Score);
        }

        return ValueTask.FromResult<IReadOnlyList<ScoredChunk>>(hits);
    }

    public Task<IReadOnlyList<IndexedDocumentVersion>> ListDocumentVersionsAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var counts = new Dictionary<(Guid, int), int>();
        var bytes = new BytesRef();
        using (var lease = Acquire())
        {
            foreach (var leaf in lease.Searcher.IndexReader.Leaves)
            {
                var reader = leaf.AtomicReader;
                var live = reader.LiveDocs;
                var documents = reader.GetBinaryDocValues(ChunkFields.DocumentId);
                var versions = reader.GetNumericDocValues(ChunkFields.Version);
                if (documents is null || versions is null)
                {
                    continue;
                }

                for (var doc = 0; doc < reader.MaxDoc; doc++)
                {
                    if (live is not null && !live.Get(doc))
                    {
                        continue;
                    }

                    documents.Get(doc, bytes);
                    var key = (new Guid(bytes.Bytes.AsSpan(bytes.Offset, bytes.Length)), (int)versions.Get(doc));
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }
        }

        return Task.FromResult<IReadOnlyList<IndexedDocumentVersion>>(
            counts.Select(kv => new IndexedDocumentVersion(kv.Key.Item1, kv.Key.Item2, kv.Value)).ToList());
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        // Waits for a batch in progress, so that closing never cuts one in half.
        _writeLock.Wait();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _engine.Dispose();
            _directory.Dispose();
            _analyzer.Dispose();
            _processLock.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static FileStream LockProcess(string path)
    {
        try
        {
            return new FileStream(Path.Combine(path, ProcessLockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw InUse(path, e);
        }
    }

    private static IOException InUse(string path, Exception inner)
        => new($"the keyword index at {path} is in use by another process; stop it or use another data directory", inner);

    private static void CheckOrRecordAnalysis(string path, IndexWriter writer, string signature)
    {
        var committed = writer.CommitData;
        if (committed.TryGetValue(AnalysisKey, out var existing))
        {
            if (!string.Equals(existing, signature, StringComparison.Ordinal))
            {
                throw new RagValidationException(
                    "Keyword",
                    $"the keyword index at {path} was built with analysis '{existing}', but the settings now ask for '{signature}'. " +
                    "Either restore the previous settings (Stemmer, StopWords, FoldToAscii, Layout) or delete the directory and re-index.");
            }

            return;
        }

        // A new index: record how it analyses text, and commit so the directory is a valid, empty index.
        writer.SetCommitData(new Dictionary<string, string>(StringComparer.Ordinal) { [AnalysisKey] = signature });
        writer.Commit();
    }

    private void Write(IndexWriter writer, IndexBatch batch)
    {
        foreach (var deletion in batch.Deletions)
        {
            var document = new Term(ChunkFields.DocumentId, ChunkFields.Key(deletion.DocumentId));
            if (deletion.KeepVersion is not { } keep)
            {
                writer.DeleteDocuments(document);
            }
            else
            {
                writer.DeleteDocuments(new BooleanQuery
                {
                    { new TermQuery(document), Occur.MUST },
                    { new TermQuery(new Term(ChunkFields.DocumentVersion, ChunkFields.KeyOf(deletion.DocumentId, keep))), Occur.MUST_NOT },
                });
            }
        }

        foreach (var chunk in batch.Upserts)
        {
            writer.UpdateDocument(new Term(ChunkFields.ChunkId, chunk.ChunkId), _documents.Build(chunk));
        }

        if (batch.AccessUpdates.Count == 0)
        {
            return;
        }

        // A reader of the writer's uncommitted state: it sees this batch's deletions and upserts,
        // which must be re-added with the new ACL too. Searchers never see it.
        using var reader = DirectoryReader.Open(writer, applyAllDeletes: true);
        foreach (var update in batch.AccessUpdates)
        {
            var acl = update.Acl.Distinct(StringComparer.Ordinal).ToArray();
            foreach (var chunk in StoredChunks(reader, update.DocumentId, acl))
            {
                writer.UpdateDocument(new Term(ChunkFields.ChunkId, chunk.ChunkId), _documents.Build(chunk));
            }
        }
    }

    /// <summary>The live chunks of a document as stored, with <paramref name="acl"/> in place of theirs; read straight from the postings.</summary>
    private static List<IndexedChunk> StoredChunks(DirectoryReader reader, Guid documentId, IReadOnlyList<string> acl)
    {
        var chunks = new List<IndexedChunk>();
        var key = new BytesRef(ChunkFields.Key(documentId));
        foreach (var leaf in reader.Leaves)
        {
            var segment = leaf.AtomicReader;
            var termsEnum = segment.GetTerms(ChunkFields.DocumentId)?.GetEnumerator();
            if (termsEnum is null || !termsEnum.SeekExact(key))
            {
                continue;
            }

            var docs = termsEnum.Docs(segment.LiveDocs, null, DocsFlags.NONE);
            int doc;
            while ((doc = docs.NextDoc()) != DocIdSetIterator.NO_MORE_DOCS)
            {
                chunks.Add(ChunkFields.Restore(segment.Document(doc), acl));
            }
        }

        return chunks;
    }

    private Lease Acquire()
    {
        // A rollback swaps the engine; a search that raced with it simply tries the new one.
        for (var attempt = 0; ; attempt++)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var engine = _engine;
            try
            {
                return new Lease(engine.Searchers, engine.Searchers.Acquire());
            }
            catch (ObjectDisposedException) when (!_disposed && attempt < 3 && !ReferenceEquals(engine, _engine))
            {
            }
        }
    }

    private readonly struct Lease(SearcherManager manager, IndexSearcher searcher) : IDisposable
    {
        public IndexSearcher Searcher { get; } = searcher;

        public void Dispose() => manager.Release(Searcher);
    }

    /// <summary>The writer and the searchers built on it; replaced as a whole after a rollback.</summary>
    private sealed class Engine(IndexWriter writer, SearcherManager searchers) : IDisposable
    {
        public IndexWriter Writer { get; } = writer;

        public SearcherManager Searchers { get; } = searchers;

        public static Engine Open(string path, LuceneDirectory directory, EnglishChunkAnalyzer analyzer, Similarity similarity, KeywordIndexOptions options)
        {
            var config = new IndexWriterConfig(EnglishChunkAnalyzer.Version, analyzer)
            {
                OpenMode = OpenMode.CREATE_OR_APPEND,
                Similarity = similarity,
                RAMBufferSizeMB = options.RamBufferSizeMb,
            };

            IndexWriter writer;
            try
            {
                writer = new IndexWriter(directory, config);
            }
            catch (LockObtainFailedException e)
            {
                throw InUse(path, e);
            }
            catch (Exception e) when (e is CorruptIndexException or IndexFormatTooOldException or IndexFormatTooNewException)
            {
                throw new IOException($"the keyword index at {path} cannot be read ({e.Message}); delete the directory and re-index", e);
            }

            try
            {
                var searchers = new SearcherManager(writer, applyAllDeletes: true, new SimilaritySearcherFactory(similarity));
                return new Engine(writer, searchers);
            }
            catch
            {
                writer.Dispose();
                throw;
            }
        }

        public Engine RollBackAndReopen(string path, LuceneDirectory directory, EnglishChunkAnalyzer analyzer, Similarity similarity, KeywordIndexOptions options)
        {
            // Rollback discards everything since the last commit and closes the writer (releasing the lock).
            Writer.Rollback();
            Searchers.Dispose();
            return Open(path, directory, analyzer, similarity, options);
        }

        public void Dispose()
        {
            Searchers.Dispose();
            Writer.Dispose();
        }
    }

    private sealed class SimilaritySearcherFactory(Similarity similarity) : SearcherFactory
    {
        public override IndexSearcher NewSearcher(IndexReader reader) => new(reader) { Similarity = similarity };
    }
}
