using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagPlatform.Core.Configuration;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Metadata;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.IndexerJobs.Sources;

/// <summary>
/// A URL list source. Each URL is fetched with a conditional GET (If-None-Match with the ETag seen
/// last, or If-Modified-Since): 304 means unchanged and nothing is read; 200 brings the new content;
/// 404 and 410 mean the document is gone and is deleted; 5xx, 429 and timeouts are retried with
/// exponential backoff, then recorded as a transient failure (the document indexed before stays).
/// The change time of a new version is the sync that saw it.
/// </summary>
internal sealed class UrlLister(IHttpClientFactory http, IOptions<JobsOptions> options, IOptions<RagOptions> rag, TimeProvider time, ILogger<UrlLister> logger) : ISourceLister
{
    public const string HttpClientName = "rag-url-source";

    /// <summary>Tests shorten the waits; production waits.</summary>
    internal Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = Task.Delay;

    public SourceKind Kind => SourceKind.Urls;

    public async Task<SourceListing> ListAsync(SourceInfo source, IReadOnlyDictionary<string, DocumentSnapshot> known, CancellationToken cancellationToken)
    {
        var urls = SourceSettings.ReadUrls(SourceSettings.Urls(source).File);
        var listed = urls.Select(u => u.AbsoluteUri).ToHashSet(StringComparer.Ordinal);
        var items = new IngestItem?[urls.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, urls.Count),
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.HttpConcurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var url = urls[i];
                known.TryGetValue(url.AbsoluteUri, out var snapshot);
                items[i] = await FetchAsync(url, snapshot, ct);
            });

        // Gone (404/410) comes back as null: left out of the items, inside the scope, so it is deleted.
        var present = items.Where(i => i is not null).Select(i => i!).ToList();
        return new SourceListing(present, key => listed.Contains(key) || known.ContainsKey(key));
    }

    private async Task<IngestItem?> FetchAsync(Uri url, DocumentSnapshot? snapshot, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var client = http.CreateClient(HttpClientName);
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (snapshot is { State: not DocumentState.Deleted, SourceStamp: { } stamp })
            {
                if (stamp.StartsWith("etag:", StringComparison.Ordinal) && EntityTagHeaderValue.TryParse(stamp[5..], out var etag))
                {
                    request.Headers.IfNoneMatch.Add(etag);
                }
                else if (stamp.StartsWith("lm:", StringComparison.Ordinal) && DateTimeOffset.TryParse(stamp[3..], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var modified))
                {
                    request.Headers.IfModifiedSince = modified;
                }
            }

            var conditional = request.Headers.IfNoneMatch.Count > 0 || request.Headers.IfModifiedSince is not null;
            string transientReason;
            var transientKind = FailureKind.Unavailable;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(settings.HttpTimeout);
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.NotModified when !conditional:
                        // Nothing was asked conditionally, so there is nothing this could confirm; one bad URL must not fail the sync.
                        return Failed(url, FailureKind.Unreadable, $"answered 304 Not Modified to a request without conditions from {url}; check the server");
                    case HttpStatusCode.NotModified:
                        // Unchanged: the same stamp tells the pipeline not to read anything. Should it need
                        // the content all the same (settings changed), it fetches it without conditions.
                        return Item(url, snapshot!.SourceStamp, changedAt: snapshot.ChangedAt, content: null, contentType: null) with
                        {
                            ReadAsync = async ct => await FetchUnconditionallyAsync(url, ct),
                        };
                    case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                        return null;
                    case var code when (int)code >= 500 || code is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout:
                        transientReason = $"HTTP {(int)code} {response.ReasonPhrase}";
                        break;
                    case var code when !response.IsSuccessStatusCode:
                        return Failed(url, FailureKind.Unreadable, $"HTTP {(int)code} {response.ReasonPhrase} from {url}; check the URL and any credentials it needs");
                    default:
                        var max = rag.Value.Limits.MaxFileBytes;
                        if (response.Content.Headers.ContentLength is { } length && length > max)
                        {
                            return Failed(url, FailureKind.TooLarge, $"is {length / 1048576.0:0.0} MB, over the {max / 1048576.0:0.#} MB limit; raise Rag:Limits:MaxFileBytes");
                        }

                        var body = await ReadLimitedAsync(response, max, timeout.Token);
                        if (body is null)
                        {
                            return Failed(url, FailureKind.TooLarge, $"is over the {max / 1048576.0:0.#} MB limit; raise Rag:Limits:MaxFileBytes");
                        }

                        return Item(url, Stamp(response), time.GetUtcNow(), body, response.Content.Headers.ContentType?.MediaType);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The class says what happened: a server that does not answer in time is a timeout, not an outage.
                transientKind = FailureKind.Timeout;
                transientReason = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no answer within {settings.HttpTimeout.TotalSeconds:0.###} s");
            }
            catch (HttpRequestException ex)
            {
                transientReason = ex.Message;
            }

            if (attempt >= settings.HttpAttempts)
            {
                logger.LogWarning("Giving up on {Url} after {Attempts} attempts: {Reason}", url, attempt, transientReason);
                return Failed(url, transientKind, $"{transientReason} from {url}, {attempt} attempts; it is retried at the next sync and the version indexed before stays searchable");
            }

            await Delay(TimeSpan.FromTicks(settings.HttpRetryBaseDelay.Ticks * (1L << (attempt - 1))), cancellationToken);
        }
    }

    private async Task<ReadOnlyMemory<byte>> FetchUnconditionallyAsync(Uri url, CancellationToken cancellationToken)
    {
        var item = await FetchAsync(url, snapshot: null, cancellationToken);
        if (item is null)
        {
            throw new DocumentRejectedException(FailureKind.Unreadable, $"{url} is gone (404)");
        }

        if (item.ListingFailure is { } failure)
        {
            throw failure;
        }

        return await item.ReadAsync(cancellationToken);
    }

    private static async Task<byte[]?> ReadLimitedAsync(HttpResponseMessage response, long max, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>The change marker of a response: its ETag, else its Last-Modified, else none (the content hash decides).</summary>
    private static string? Stamp(HttpResponseMessage response)
        => response.Headers.ETag is { } etag ? "etag:" + etag
            : response.Content.Headers.LastModified is { } modified ? "lm:" + modified.ToString("R", System.Globalization.CultureInfo.InvariantCulture)
            : null;

    private static IngestItem Item(Uri url, string? stamp, DateTimeOffset? changedAt, byte[]? content, string? contentType) => new()
    {
        ExternalKey = url.AbsoluteUri,
        FileName = Path.GetFileName(url.AbsolutePath) is { Length: > 0 } name ? name : url.Host,
        Uri = url.AbsoluteUri,
        ContentType = contentType,
        SourceStamp = stamp,
        ChangedAt = changedAt,
        Size = content?.Length,
        ReadAsync = _ => ValueTask.FromResult<ReadOnlyMemory<byte>>(content ?? []),
    };

    private static IngestItem Failed(Uri url, FailureKind kind, string reason) => new()
    {
        ExternalKey = url.AbsoluteUri,
        FileName = Path.GetFileName(url.AbsolutePath),
        Uri = url.AbsoluteUri,
        ReadAsync = _ => ValueTask.FromResult(ReadOnlyMemory<byte>.Empty),
        ListingFailure = new DocumentRejectedException(kind, reason),
    };
}
