using System.Net;
using System.Net.Sockets;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using RagPlatform.Core;
using RagPlatform.Core.Configuration;
using RagPlatform.Inference.Embeddings;

namespace RagPlatform.Inference.Tests.Embeddings;

public sealed class OpenAiCompatibleEmbeddingGeneratorTests : IAsyncLifetime
{
    private const string Key = "sk-test-0123456789";

    private readonly HttpClient _http = new();
    private FakeEmbeddingServer _server = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await FakeEmbeddingServer.StartAsync(Token);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Request_has_the_openai_shape_and_a_bearer_key()
    {
        var (embedder, _) = Create();

        await embedder.GenerateAsync(["first text", "second"], cancellationToken: Token);

        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/embeddings", request.Path);
        Assert.Equal($"Bearer {Key}", request.Authorization);
        Assert.Null(request.ApiKey);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
        Assert.Equal("text-embedding-test", request.Body["model"]!.GetValue<string>());
        Assert.Equal(["first text", "second"], request.Inputs);
        Assert.Equal("float", request.Body["encoding_format"]!.GetValue<string>());
        Assert.False(request.Body.ContainsKey("dimensions"));
    }

    [Fact]
    public async Task Requested_dimensions_are_sent_and_checked()
    {
        var (embedder, _) = Create();

        var embeddings = await embedder.GenerateAsync(["text"], new EmbeddingGenerationOptions { Dimensions = 4 }, Token);

        Assert.Equal(4, _server.Requests[0].Body["dimensions"]!.GetValue<int>());
        Assert.Equal(4, embeddings[0].Vector.Length);
    }

    [Fact]
    public async Task Endpoint_without_a_key_gets_no_authorization_header()
    {
        var (embedder, _) = Create(apiKey: null);

        await embedder.GenerateAsync(["local model"], cancellationToken: Token);

        Assert.Null(_server.Requests[0].Authorization);
        Assert.Null(_server.Requests[0].ApiKey);
    }

    [Fact]
    public async Task Azure_openai_hosts_get_the_key_in_an_api_key_header_and_keep_the_query()
    {
        // The Azure host name resolves to the local server: the real handler connects to 127.0.0.1.
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, _server.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler);
        var endpoint = new Uri($"http://myresource.openai.azure.com:{_server.Port}/openai/deployments/embedder?api-version=2024-02-01");
        var embedder = new OpenAiCompatibleEmbeddingGenerator(http, Settings(endpoint, Key));

        await embedder.GenerateAsync(["azure"], cancellationToken: Token);

        var request = Assert.Single(_server.Requests);
        Assert.Equal("/openai/deployments/embedder/embeddings", request.Path);
        Assert.Equal("?api-version=2024-02-01", request.Query);
        Assert.Equal(Key, request.ApiKey);
        Assert.Null(request.Authorization);
    }

    [Fact]
    public async Task Texts_are_sent_in_batches_and_come_back_in_input_order()
    {
        var (embedder, _) = Create(batchSize: 3);
        var texts = Enumerable.Range(0, 8).Select(i => new string('x', i + 1) + new string(' ', i % 3) + (char)('a' + i)).ToArray();

        var embeddings = await embedder.GenerateAsync(texts, cancellationToken: Token);

        Assert.Equal([3, 3, 2], _server.Requests.Select(r => r.Inputs.Length));
        Assert.Equal(texts, _server.Requests.SelectMany(r => r.Inputs));
        Assert.Equal(texts.Length, embeddings.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            AssertVectorFor(texts[i], embeddings[i]);
        }

        Assert.Equal(texts.Length * 3, embeddings.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task Items_are_placed_by_their_index_not_their_position()
    {
        var (embedder, _) = Create();
        // The default answer lists items last to first; shuffle further to be sure position is ignored.
        _server.Respond = (request, _) => FakeEmbeddingServer.Success(request, editData: data =>
        {
            var items = data.Select(n => n!.DeepClone()).ToList();
            (items[0], items[2]) = (items[2], items[0]);
            return new JsonArray([.. items]);
        });
        string[] texts = ["alpha", "beta beta", "gamma gamma gamma", "delta"];

        var embeddings = await embedder.GenerateAsync(texts, cancellationToken: Token);

        for (var i = 0; i < texts.Length; i++)
        {
            AssertVectorFor(texts[i], embeddings[i]);
        }
    }

    [Fact]
    public async Task Vectors_are_l2_normalised()
    {
        var (embedder, _) = Create();

        var embeddings = await embedder.GenerateAsync(["one", "two two"], cancellationToken: Token);

        Assert.All(embeddings, e => Assert.Equal(1.0, TensorPrimitives.Norm(e.Vector.Span), 5));
    }

    [Fact]
    public async Task Server_error_then_success_is_retried()
    {
        var (embedder, delays) = Create();
        _server.Respond = (request, n) => n == 0 ? FakeEmbeddingServer.Error(500, "internal error") : FakeEmbeddingServer.Success(request);

        var embeddings = await embedder.GenerateAsync(["retry me"], cancellationToken: Token);

        Assert.Equal(2, _server.Requests.Count);
        AssertVectorFor("retry me", embeddings[0]);
        var delay = Assert.Single(delays);
        Assert.InRange(delay, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100));
    }

    [Theory]
    [InlineData("Retry-After", "7", 7000)]
    [InlineData("retry-after-ms", "1500", 1500)]
    public async Task Rate_limit_waits_as_long_as_the_server_asks(string header, string value, int expectedMs)
    {
        var (embedder, delays) = Create();
        _server.Respond = (request, n) => n == 0
            ? FakeEmbeddingServer.Error(429, "Rate limit reached", new() { [header] = value })
            : FakeEmbeddingServer.Success(request);

        var embeddings = await embedder.GenerateAsync(["rate limited"], cancellationToken: Token);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Assert.Single(delays));
        Assert.Equal(2, _server.Requests.Count);
        AssertVectorFor("rate limited", embeddings[0]);
    }

    [Fact]
    public async Task Retry_after_beyond_the_cap_fails_at_once_as_transient()
    {
        var (embedder, delays) = Create();
        _server.Respond = (_, _) => FakeEmbeddingServer.Error(429, "quota", new() { ["Retry-After"] = "3600" });

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["x"], cancellationToken: Token));

        Assert.True(error.IsTransient);
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Contains("asks to wait 3600 s", error.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests);
        Assert.Empty(delays);
    }

    [Fact]
    public async Task Persistent_server_errors_give_up_after_the_attempt_cap_as_transient()
    {
        var (embedder, delays) = Create(maxAttempts: 4);
        _server.Respond = (_, _) => FakeEmbeddingServer.Error(503, "overloaded");

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["x"], cancellationToken: Token));

        Assert.True(error.IsTransient);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Contains("after 4 attempts. This is transient", error.Message, StringComparison.Ordinal);
        Assert.Contains("overloaded", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, _server.Requests.Count);
        // Exponential from 100 ms with jitter in [50%, 100%], capped at 250 ms.
        Assert.Equal(3, delays.Count);
        Assert.InRange(delays[0].TotalMilliseconds, 50, 100);
        Assert.InRange(delays[1].TotalMilliseconds, 100, 200);
        Assert.InRange(delays[2].TotalMilliseconds, 125, 250);
    }

    [Fact]
    public async Task Timeout_is_retried()
    {
        var (embedder, delays) = Create(requestTimeout: TimeSpan.FromSeconds(1));
        _server.Respond = (request, n) => n == 0
            ? FakeEmbeddingServer.Success(request) with { Delay = TimeSpan.FromSeconds(60) }
            : FakeEmbeddingServer.Success(request);

        var embeddings = await embedder.GenerateAsync(["slow"], cancellationToken: Token);

        // Only the first answer is held back; a loaded machine may still time out a later one, which is retried too.
        Assert.True(_server.Requests.Count >= 2);
        Assert.Equal(_server.Requests.Count - 1, delays.Count);
        AssertVectorFor("slow", embeddings[0]);
    }

    [Fact]
    public async Task Unreachable_endpoint_is_reported_as_transient()
    {
        var closedPort = _server.Port;
        await _server.DisposeAsync();
        _server = await FakeEmbeddingServer.StartAsync(Token);
        var embedder = new OpenAiCompatibleEmbeddingGenerator(_http, Settings(new Uri($"http://127.0.0.1:{closedPort}/v1"), Key, maxAttempts: 2)) { Delay = (_, _) => Task.CompletedTask };

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["x"], cancellationToken: Token));

        Assert.True(error.IsTransient);
        Assert.Null(error.StatusCode);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task Unauthorized_fails_at_once_naming_the_endpoint_and_the_key_variable_without_the_key()
    {
        var (embedder, delays) = Create();
        _server.Respond = (_, _) => FakeEmbeddingServer.Error(401, $"Incorrect API key provided: {Key}.");

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["x"], cancellationToken: Token));

        Assert.False(error.IsTransient);
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Single(_server.Requests);
        Assert.Empty(delays);
        Assert.Contains($"The embedding endpoint {_server.BaseUrl}/embeddings answered 401 Unauthorized", error.Message, StringComparison.Ordinal);
        Assert.Contains("RAG__Embeddings__ApiKey", error.Message, StringComparison.Ordinal);
        Assert.Contains("Incorrect API key provided: [redacted]", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, "Rag:Embeddings:EndpointModel ('text-embedding-test')")]
    [InlineData(403, "may not use model 'text-embedding-test'")]
    [InlineData(404, "Check the base URL Rag:Embeddings:Endpoint")]
    [InlineData(413, "lower Rag:Embeddings:BatchSize")]
    public async Task Client_errors_fail_at_once_with_what_to_check(int status, string advice)
    {
        var (embedder, _) = Create();
        _server.Respond = (_, _) => FakeEmbeddingServer.Error(status, "the server's reason");

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["x"], cancellationToken: Token));

        Assert.False(error.IsTransient);
        Assert.Single(_server.Requests);
        Assert.Contains($"answered {status} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("the server's reason", error.Message, StringComparison.Ordinal);
        Assert.Contains(advice, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_number_of_embeddings_is_an_error()
    {
        var (embedder, _) = Create();
        _server.Respond = (request, _) => FakeEmbeddingServer.Success(request, editData: data =>
        {
            data.RemoveAt(0);
            return data;
        });

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["a", "b", "c"], cancellationToken: Token));

        Assert.False(error.IsTransient);
        Assert.Contains("returned 2 embeddings for 3 inputs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repeated_index_is_an_error()
    {
        var (embedder, _) = Create();
        _server.Respond = (request, _) => FakeEmbeddingServer.Success(request, editData: data =>
        {
            data[0]!["index"] = 1;
            data[1]!["index"] = 1;
            return data;
        });

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["a", "b"], cancellationToken: Token));

        Assert.Contains("returned index 1 twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dimensions_are_learned_from_the_first_response_and_checked_after()
    {
        var (embedder, _) = Create();
        _server.Respond = (request, n) => n == 0
            ? FakeEmbeddingServer.Success(request)
            : FakeEmbeddingServer.Success(request, vector: _ => [1, 2, 3, 4, 5]);

        Assert.Null(embedder.Dimensions);
        await embedder.GenerateAsync(["first"], cancellationToken: Token);
        Assert.Equal(4, embedder.Dimensions);
        Assert.Equal(4, embedder.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions);
        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["second"], cancellationToken: Token));

        Assert.Contains("returned vectors of 5 dimensions, but 4 are expected (learned from its first response)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inconsistent_dimensions_within_one_response_are_an_error()
    {
        var (embedder, _) = Create();
        _server.Respond = (request, _) => FakeEmbeddingServer.Success(request, vector: t => t == "b" ? [1, 2, 3] : [1, 2, 3, 4]);

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["a", "b"], cancellationToken: Token));

        Assert.Contains("returned vectors of", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configured_dimensions_are_checked_from_the_first_response()
    {
        var embedder = new OpenAiCompatibleEmbeddingGenerator(_http, Settings(_server.BaseUrl, Key, dimensions: 8));

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["a"], cancellationToken: Token));

        Assert.Contains("returned vectors of 4 dimensions, but 8 are expected (configured)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_that_is_not_an_embeddings_response_is_an_error()
    {
        var (embedder, _) = Create();
        _server.Respond = (_, _) => new FakeResponse(200, "<html>login</html>");

        var error = await Assert.ThrowsAsync<EmbeddingEndpointException>(() => embedder.GenerateAsync(["a"], cancellationToken: Token));

        Assert.False(error.IsTransient);
        Assert.Contains("not an embeddings response", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_call_is_not_retried()
    {
        var (embedder, delays) = Create();
        using var cts = new CancellationTokenSource();
        _server.Respond = (request, _) =>
        {
            cts.Cancel();
            return FakeEmbeddingServer.Success(request) with { Delay = TimeSpan.FromSeconds(30) };
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => embedder.GenerateAsync(["a"], cancellationToken: cts.Token));

        Assert.Empty(delays);
    }

    [Fact]
    public void Endpoint_without_model_name_is_a_configuration_error()
    {
        var options = new EmbeddingOptions { Endpoint = new Uri("http://localhost:11434/v1") };

        var error = Assert.Throws<RagValidationException>(() => OpenAiCompatibleEmbeddingSettings.FromOptions(options));

        Assert.Equal("Rag:Embeddings:EndpointModel", error.Field);
    }

    private static OpenAiCompatibleEmbeddingSettings Settings(
        Uri endpoint, string? apiKey, int batchSize = 32, int maxAttempts = 5, TimeSpan? requestTimeout = null, int? dimensions = null)
        => new()
        {
            Dimensions = dimensions,
            Endpoint = endpoint,
            Model = "text-embedding-test",
            ApiKey = apiKey,
            BatchSize = batchSize,
            MaxAttempts = maxAttempts,
            InitialBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(250),
            MaxRetryAfter = TimeSpan.FromSeconds(60),
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(30),
        };

    /// <summary>A generator against the fake server whose waits are recorded instead of slept.</summary>
    private (OpenAiCompatibleEmbeddingGenerator Embedder, List<TimeSpan> Delays) Create(
        string? apiKey = Key, int batchSize = 32, int maxAttempts = 5, TimeSpan? requestTimeout = null)
    {
        var delays = new List<TimeSpan>();
        var embedder = new OpenAiCompatibleEmbeddingGenerator(_http, Settings(_server.BaseUrl, apiKey, batchSize, maxAttempts, requestTimeout))
        {
            Delay = (delay, _) =>
            {
                lock (delays)
                {
                    delays.Add(delay);
                }

                return Task.CompletedTask;
            },
        };
        return (embedder, delays);
    }

    private static void AssertVectorFor(string text, Embedding<float> embedding)
    {
        var expected = FakeEmbeddingServer.VectorFor(text);
        TensorPrimitives.Multiply(expected, 1f / TensorPrimitives.Norm(expected), expected);
        Assert.Equal(expected.Length, embedding.Vector.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], embedding.Vector.Span[i], 5);
        }
    }
}
