using Microsoft.AspNetCore.Http.Metadata;

namespace RagPlatform.Ingestion.Grpc;

/// <summary>
/// Lifts Kestrel's request body limit (30 MB by default) from a gRPC service's endpoints, so that
/// the host's gRPC <c>MaxReceiveMessageSize</c> is the one limit: a larger message is refused as
/// RESOURCE_EXHAUSTED. Under Kestrel's limit instead, a push between 30 MB and the gRPC limit failed
/// while its body was read, before any handler or interceptor, and reached the client as UNKNOWN.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class GrpcMessageSizeLimitAttribute : Attribute, IRequestSizeLimitMetadata
{
    // Unary calls carry one message, whose length prefix gRPC checks against its own limit before reading it.
    public long? MaxRequestBodySize => null;
}
