using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Cli.Benchmarks;

/// <summary>
/// Serves <see cref="SyntheticEmbedder"/> as an OpenAI-compatible <c>POST /v1/embeddings</c> on loopback, for
/// the benchmark's server only. The server takes its embedder from configuration (a model directory or an
/// endpoint) and offers no way to register one, so the benchmark points <c>Rag:Embeddings:Endpoint</c> here:
/// queries are then embedded through the product's own endpoint client, and the cost of that round trip shows
/// up as the <c>embed_query</c> stage, which the targets exclude.
/// </summary>
internal sealed class SyntheticEmbeddingEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SyntheticEmbeddingEndpoint(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The API's base URL (ending in <c>/v1</c>), as <c>Rag:Embeddings:Endpoint</c> takes it.</summary>
    public Uri BaseUrl { get; }

    public static async Task<SyntheticEmbeddingEndpoint> StartAsync(SyntheticEmbedder embedder, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/v1/embeddings", context => RespondAsync(context, embedder));
        await app.StartAsync(cancellationToken);
        var address = app.Urls.First();
        return new SyntheticEmbeddingEndpoint(app, new Uri(address.TrimEnd('/') + "/v1"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task RespondAsync(HttpContext context, SyntheticEmbedder embedder)
    {
        using var request = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var input = request.RootElement.GetProperty("input");
        var texts = input.ValueKind == JsonValueKind.Array
            ? input.EnumerateArray().Select(e => e.GetString() ?? string.Empty).ToList()
            : [input.GetString() ?? string.Empty];

        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteString("model", SyntheticEmbedder.ModelId);
        json.WriteStartArray("data");
        for (var i = 0; i < texts.Count; i++)
        {
            json.WriteStartObject();
            json.WriteString("object", "embedding");
            json.WriteNumber("index", i);
            json.WriteStartArray("embedding");
            foreach (var value in embedder.Embed(texts[i]))
            {
                json.WriteNumberValue(value);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
