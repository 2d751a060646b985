using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.FileSystemGlobbing;
using RagPlatform.Core;
using RagPlatform.Core.Metadata;

namespace RagPlatform.IndexerJobs.Sources;

/// <summary>A folder source: an absolute path and relative-path globs.</summary>
public sealed record FolderSettings
{
    [JsonPropertyName("path")]
    public required string Path { get; init; }

    [JsonPropertyName("include")]
    public IReadOnlyList<string> Include { get; init; } = [];

    [JsonPropertyName("exclude")]
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Whether a path relative to the folder is included (everything when there are no include globs).</summary>
    public Func<string, bool> Matcher()
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddIncludePatterns(Include.Count == 0 ? ["**/*"] : Include);
        matcher.AddExcludePatterns(Exclude);
        return relative => matcher.Match(relative.Replace(System.IO.Path.DirectorySeparatorChar, '/')).HasMatches;
    }
}

/// <summary>A URL list source: a file of http(s) URLs, read at every sync.</summary>
public sealed record UrlListSettings
{
    [JsonPropertyName("file")]
    public required string File { get; init; }
}

/// <summary>Reading, writing and checking the kind-specific settings of a source.</summary>
public static class SourceSettings
{
    public static FolderSettings Folder(SourceInfo source)
        => JsonSerializer.Deserialize<FolderSettings>(source.SettingsJson)
            ?? throw new InvalidOperationException($"Source '{source.Name}' has no folder settings.");

    public static UrlListSettings Urls(SourceInfo source)
        => JsonSerializer.Deserialize<UrlListSettings>(source.SettingsJson)
            ?? throw new InvalidOperationException($"Source '{source.Name}' has no URL list settings.");

    public static string Serialize(FolderSettings settings) => JsonSerializer.Serialize(settings);

    public static string Serialize(UrlListSettings settings) => JsonSerializer.Serialize(settings);

    /// <summary>Checks a folder source's settings, naming the field of the request (<c>spec.folder.path</c>...) that is wrong.</summary>
    public static FolderSettings Validate(FolderSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.Path) || !System.IO.Path.IsPathFullyQualified(settings.Path))
        {
            throw new RagValidationException("spec.folder.path", $"'{settings.Path}' is not an absolute path; give the folder's full path");
        }

        if (!Directory.Exists(settings.Path))
        {
            throw new RagValidationException("spec.folder.path", $"'{settings.Path}' is not a folder on this machine");
        }

        foreach (var (globs, field) in new[] { (settings.Include, "spec.folder.include"), (settings.Exclude, "spec.folder.exclude") })
        {
            foreach (var glob in globs)
            {
                if (string.IsNullOrWhiteSpace(glob) || System.IO.Path.IsPathRooted(glob))
                {
                    throw new RagValidationException(field, $"'{glob}' is not a relative glob such as **/*.md");
                }
            }
        }

        return settings with { Path = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(settings.Path)) };
    }

    /// <summary>Checks a URL list source, naming the field that is wrong; returns the URLs it holds now.</summary>
    public static IReadOnlyList<Uri> Validate(UrlListSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.File) || !System.IO.Path.IsPathFullyQualified(settings.File))
        {
            throw new RagValidationException("spec.urls.file", $"'{settings.File}' is not an absolute path; give the URL list file's full path");
        }

        if (!System.IO.File.Exists(settings.File))
        {
            throw new RagValidationException("spec.urls.file", $"'{settings.File}' does not exist");
        }

        return ReadUrls(settings.File);
    }

    /// <summary>One http(s) URL per line; blank lines and '#' comments are ignored.</summary>
    public static IReadOnlyList<Uri> ReadUrls(string file)
    {
        var urls = new List<Uri>();
        var line = 0;
        foreach (var raw in System.IO.File.ReadLines(file))
        {
            line++;
            var text = raw.Split('#')[0].Trim();
            if (text.Length == 0)
            {
                continue;
            }

            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new RagValidationException("spec.urls.file", $"{file} line {line}: '{text}' is not an http(s) URL");
            }

            urls.Add(uri);
        }

        return urls.Distinct().ToList();
    }
}
