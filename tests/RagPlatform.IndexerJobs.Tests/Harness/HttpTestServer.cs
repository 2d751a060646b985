using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RagPlatform.Testing;

namespace RagPlatform.IndexerJobs.Tests.Harness;

/// <summary>
/// A real HTTP server on 127.0.0.1 (Kestrel, a free port) for URL sources: it serves documents with
/// ETags or Last-Modified, answers conditional GETs with 304, can be told to answer 404, 410, 500 or
/// slowly, and records every request (path, conditional headers, status, how many were in flight).
/// </summary>
internal sealed class HttpTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Resource> _resources = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Request> _requests = new();
    private int _inFlight;
    private int _maxInFlight;

    private HttpTestServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>What the server answers for one path.</summary>
    public sealed record Resource
    {
        public int Status { get; init; } = 200;

        public string Body { get; init; } = string.Empty;

        public string? ETag { get; init; }

        public DateTimeOffset? LastModified { get; init; }

        public TimeSpan Delay { get; init; }

        /// <summary>Send the body without a Content-Length (chunked), so the client learns the size only by reading.</summary>
        public bool Chunked { get; init; }
    }

    public sealed record Request(string Path, string? IfNoneMatch, string? IfModifiedSince, int Status, DateTimeOffset Started, DateTimeOffset Finished);

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public IReadOnlyList<Request> Requests => [.. _requests];

    /// <summary>The most requests the server was answering at the same time.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public static async Task<HttpTestServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new HttpTestServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    public Uri Url(string path) => new(BaseAddress, path.TrimStart('/'));

    public void Serve(string path, Resource resource) => _resources["/" + path.TrimStart('/')] = resource;

    public void Change(string path, Func<Resource, Resource> change)
        => _resources.AddOrUpdate("/" + path.TrimStart('/'), _ => throw new InvalidOperationException($"{path} is not served"), (_, r) => change(r));

    public IReadOnlyList<Request> RequestsFor(string path) => Requests.Where(r => r.Path == "/" + path.TrimStart('/')).ToList();

    public void ClearRequests() => _requests.Clear();

    /// <summary>A URL list file naming these paths of the server, one per line.</summary>
    public string WriteUrlList(TempDirectory dir, params string[] paths)
        => dir.Write("urls.txt", "# the documents of the test server\n" + string.Join('\n', paths.Select(p => Url(p).AbsoluteUri)) + "\n");

    private async Task HandleAsync(HttpContext context)
    {
        var started = DateTimeOffset.UtcNow;
        var inFlight = Interlocked.Increment(ref _inFlight);
        int max;
        while (inFlight > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, inFlight, max) != max)
        {
        }

        var path = context.Request.Path.Value ?? "/";
        var status = 404;
        try
        {
            if (_resources.TryGetValue(path, out var resource))
            {
                if (resource.Delay > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(resource.Delay, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        status = 499;
                        return;
                    }
                }

                status = await AnswerAsync(context, resource);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _requests.Enqueue(new Request(path, context.Request.Headers.IfNoneMatch.ToString() is { Length: > 0 } inm ? inm : null, context.Request.Headers.IfModifiedSince.ToString() is { Length: > 0 } ims ? ims : null, status, started, DateTimeOffset.UtcNow));
        }
    }

    private static async Task<int> AnswerAsync(HttpContext context, Resource resource)
    {
        var response = context.Response;
        if (resource.Status != 200)
        {
            response.StatusCode = resource.Status;
            return resource.Status;
        }

        var request = context.Request.Headers;
        var notModified = resource.ETag is { } etag
            ? request.IfNoneMatch.Any(v => v == etag)
            : resource.LastModified is { } modified
                && DateTimeOffset.TryParse(request.IfModifiedSince.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since)
                && since >= modified.AddTicks(-(modified.Ticks % TimeSpan.TicksPerSecond));
        if (resource.ETag is { } tag)
        {
            response.Headers.ETag = tag;
        }

        if (resource.LastModified is { } lastModified)
        {
            response.Headers.LastModified = lastModified.ToString("R", CultureInfo.InvariantCulture);
        }

        if (notModified)
        {
            response.StatusCode = 304;
            return 304;
        }

        var body = Encoding.UTF8.GetBytes(resource.Body);
        response.StatusCode = 200;
        response.ContentType = "text/plain; charset=utf-8";
        if (!resource.Chunked)
        {
            response.ContentLength = body.Length;
        }

        await response.Body.WriteAsync(body, context.RequestAborted);
        return 200;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
