using System.Globalization;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Net.Client;
using RagPlatform.Core;

namespace RagPlatform.Cli.Commands;

/// <summary>What the admin commands share: the server option, JSON output, durations.</summary>
internal static partial class AdminOutput
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));

    public static System.CommandLine.Option<string?> Server() => new("--server")
    {
        Description = "Talk to a running `rag serve` instead of opening the data directory",
        HelpName = "URL",
    };

    /// <summary>Prints a message as JSON with the proto field names (snake_case).</summary>
    public static void PrintJson(IMessage message) => Console.WriteLine(Json.Format(message));

    public static GrpcChannel Channel(string url) => GrpcChannel.ForAddress(url);

    /// <summary>Parses 90s, 15m, 2h, 1d or a TimeSpan such as 00:15:00.</summary>
    public static TimeSpan ParseDuration(string text, string option)
    {
        var match = DurationPattern().Match(text.Trim());
        if (match.Success)
        {
            var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return match.Groups[2].Value switch
            {
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => TimeSpan.FromDays(value),
            };
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }

        throw new RagValidationException(option, $"'{text}' is not a duration; write 90s, 15m, 2h or 1d");
    }

    public static string Seconds(double seconds) => seconds switch
    {
        < 120 => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.#} s"),
        < 7200 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:0.#} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:0.#} h"),
    };

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)([smhd])$")]
    private static partial Regex DurationPattern();
}
