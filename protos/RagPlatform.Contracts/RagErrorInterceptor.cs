using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;
using RagPlatform.Core;

namespace RagPlatform.Contracts;

/// <summary>
/// Maps the platform's errors to precise gRPC statuses, so nothing reaches a client as Unknown:
/// a wrong field is INVALID_ARGUMENT with a <c>google.rpc.BadRequest</c> naming it, a missing
/// document NOT_FOUND, an oversized request RESOURCE_EXHAUSTED, an unserviceable one
/// FAILED_PRECONDITION, a passed deadline DEADLINE_EXCEEDED. Anything unexpected is INTERNAL with
/// a reference to the server log, never the exception's text.
/// </summary>
public sealed class RagErrorInterceptor(ILogger<RagErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    internal RpcException Map(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RagValidationException invalid:
                return RpcErrors.InvalidArgument(invalid.Field, invalid.Reason);
            case RagConflictException conflict:
                return new RpcException(new Grpc.Core.Status(StatusCode.AlreadyExists, conflict.Message));
            case RagNotFoundException notFound:
                return new RpcException(new Grpc.Core.Status(StatusCode.NotFound, notFound.Message));
            case RagTooLargeException tooLarge:
                return new RpcException(new Grpc.Core.Status(StatusCode.ResourceExhausted, tooLarge.Message));
            case RagPreconditionException precondition:
                return new RpcException(new Grpc.Core.Status(StatusCode.FailedPrecondition, precondition.Message));
            case OperationCanceledException when context.Deadline <= DateTime.UtcNow:
                return new RpcException(new Grpc.Core.Status(StatusCode.DeadlineExceeded, "the deadline passed before the request completed; allow more time or ask for less (top_k, rerank)"));
            case OperationCanceledException:
                return new RpcException(new Grpc.Core.Status(StatusCode.Cancelled, "the call was cancelled"));
            default:
                var reference = Guid.NewGuid().ToString("N")[..12];
                logger.LogError(ex, "Unhandled error in {Method} (reference {Reference})", context.Method, reference);
                return new RpcException(new Grpc.Core.Status(StatusCode.Internal, $"internal error (reference {reference}); the details are in the server log"));
        }
    }
}

/// <summary>Builds the gRPC errors the services throw themselves.</summary>
public static class RpcErrors
{
    /// <summary>INVALID_ARGUMENT with a <c>google.rpc.BadRequest</c> field violation naming <paramref name="field"/>.</summary>
    public static RpcException InvalidArgument(string field, string description)
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = $"{field}: {description}",
            Details =
            {
                Any.Pack(new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = description } } }),
            },
        };
        return status.ToRpcException();
    }
}
