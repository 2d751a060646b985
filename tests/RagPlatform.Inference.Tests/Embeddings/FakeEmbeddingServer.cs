using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RagPlatform.Inference.Tests.Embeddings;

/// <summary>What the fake endpoint received.</summary>
internal sealed record RecordedRequest(
    string Method, string Path, string Query, string? Authorization, string? ApiKey, string? ContentType, JsonObject Body)
{
    public string[] Inputs => Body["input"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
}

/// <summary>What the fake endpoint answers.</summary>
internal sealed record FakeResponse(int Status, string Body, Dictionary<string, string>? Headers = null, TimeSpan Delay = default);

/// <summary>
/// A real HTTP server on 127.0.0.1 (Kestrel, port 0) standing in for an OpenAI-compatible
/// embeddings API, which is a boundary we do not own. By default it answers like OpenAI, with
/// unnormalised vectors derived from each text and the items in reverse order.
/// </summary>
internal sealed class FakeEmbeddingServer : IAsyncDisposable
{
    public const int Dimensions = 4;

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly List<RecordedRequest> _requests = [];

    private FakeEmbeddingServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>Chooses the answer to a request, given its 0-based number.</summary>
    public Func<RecordedRequest, int, FakeResponse> Respond { get; set; } = (request, _) => Success(request);

    public Uri Address { get; private set; } = null!;

    /// <summary>The base URL to configure, like https://api.openai.com/v1.</summary>
    public Uri BaseUrl => new(Address, "/v1");

    public int Port => Address.Port;

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return _requests.ToArray();
            }
        }
    }

    public static async Task<FakeEmbeddingServer> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeEmbeddingServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(address);
        return server;
    }

    /// <summary>The vector the default answer gives for a text (before the client normalises it).</summary>
    public static float[] VectorFor(string text)
        => [text.Length + 1, text.Count(c => c == ' ') + 1, text.Length % 7 + 1, text.FirstOrDefault() % 13 + 1];

    /// <summary>An OpenAI-shaped answer, items in reverse order, each with its index.</summary>
    public static FakeResponse Success(RecordedRequest request, Func<string, float[]>? vector = null, Func<JsonArray, JsonArray>? editData = null)
    {
        var inputs = request.Inputs;
        var data = new JsonArray();
        for (var i = inputs.Length - 1; i >= 0; i--)
        {
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = new JsonArray((vector ?? VectorFor)(inputs[i]).Select(v => (JsonNode)v).ToArray()),
            });
        }

        var body = new JsonObject
        {
            ["object"] = "list",
            ["data"] = editData is null ? data : editData(data),
            ["model"] = request.Body["model"]?.GetValue<string>(),
            ["usage"] = new JsonObject { ["prompt_tokens"] = inputs.Length * 3, ["total_tokens"] = inputs.Length * 3 },
        };
        return new FakeResponse(200, body.ToJsonString());
    }

    public static FakeResponse Error(int status, string message, Dictionary<string, string>? headers = null)
        => new(status, new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "test" } }.ToJsonString(), headers);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject ?? [];
        var request = new RecordedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? string.Empty,
            context.Request.QueryString.Value ?? string.Empty,
            context.Request.Headers.Authorization.FirstOrDefault(),
            context.Request.Headers["api-key"].FirstOrDefault(),
            context.Request.ContentType,
            body);
        int number;
        lock (_lock)
        {
            number = _requests.Count;
            _requests.Add(request);
        }

        var response = Respond(request, number);
        if (response.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(response.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        context.Response.StatusCode = response.Status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in response.Headers ?? [])
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(response.Body, context.RequestAborted);
    }
}
