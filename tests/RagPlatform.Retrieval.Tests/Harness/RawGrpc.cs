using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;

namespace RagPlatform.Retrieval.Tests.Harness;

/// <summary>
/// A unary gRPC call written by hand over HTTP/2, so that a test sees the status the server itself
/// sends. The generated client enforces a deadline on its own side and reports DEADLINE_EXCEEDED
/// whatever the server does; this one only passes the deadline on (<c>grpc-timeout</c>) and waits.
/// </summary>
internal sealed class RawGrpc(Uri address) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler()) { Timeout = TimeSpan.FromMinutes(2) };

    public async Task<(StatusCode Status, string Message)> UnaryAsync(string method, IMessage request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var payload = request.ToByteArray();
        var body = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1, 4), (uint)payload.Length);
        payload.CopyTo(body, 5);

        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(address, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (timeout is { } t)
        {
            message.Headers.TryAddWithoutValidation("grpc-timeout", string.Create(CultureInfo.InvariantCulture, $"{(long)Math.Ceiling(t.TotalMilliseconds)}m"));
        }

        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);

        // A trailers-only response carries the status in its headers.
        var status = Header(response.TrailingHeaders, "grpc-status") ?? Header(response.Headers, "grpc-status")
            ?? throw new InvalidOperationException($"The response to {method} carries no grpc-status (HTTP {(int)response.StatusCode}).");
        var text = Header(response.TrailingHeaders, "grpc-message") ?? Header(response.Headers, "grpc-message") ?? string.Empty;
        return ((StatusCode)int.Parse(status, CultureInfo.InvariantCulture), Uri.UnescapeDataString(text));
    }

    public void Dispose() => _http.Dispose();

    private static string? Header(HttpHeaders headers, string name)
        => headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
