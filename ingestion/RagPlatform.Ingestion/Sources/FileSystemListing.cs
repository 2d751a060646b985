using System.Globalization;
using RagPlatform.Core.Documents;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Ingestion.Sources;

/// <summary>
/// Lists files and folders as pipeline items, cheaply: names, sizes and modification times only.
/// Decisions, documented for users: hidden files and folders (names starting with '.') are skipped;
/// symbolic links to folders are not followed (no cycles); a folder that cannot be listed is reported
/// as a failure and the documents indexed from it before are kept, not deleted.
/// </summary>
public sealed class FileSystemListing
{
    private readonly List<string> _roots = [];
    private readonly List<string> _unlistable = [];

    private FileSystemListing()
    {
    }

    public IReadOnlyList<IngestItem> Items { get; private init; } = [];

    /// <summary>Full paths of the files and folders listed; the deletion scope of the run.</summary>
    public IReadOnlyList<string> Roots => _roots;

    /// <summary>
    /// True for a previously indexed key that this listing speaks for: under a listed root and not
    /// under a folder that could not be read.
    /// </summary>
    public bool Covers(string externalKey)
        => _roots.Any(r => IsUnder(externalKey, r)) && !_unlistable.Any(u => IsUnder(externalKey, u));

    public static FileSystemListing List(IEnumerable<string> paths, Func<string, bool>? include = null)
    {
        var items = new List<IngestItem>();
        var listing = new FileSystemListing { Items = items };
        foreach (var raw in paths)
        {
            var full = Path.GetFullPath(raw);
            if (File.Exists(full))
            {
                listing._roots.Add(full);
                items.Add(FileItem(new FileInfo(full)));
            }
            else if (Directory.Exists(full))
            {
                listing._roots.Add(Path.TrimEndingDirectorySeparator(full));
                listing.Walk(new DirectoryInfo(full), full, items, include);
            }
            else
            {
                items.Add(new IngestItem
                {
                    ExternalKey = full,
                    FileName = Path.GetFileName(full),
                    ReadAsync = _ => ValueTask.FromResult(ReadOnlyMemory<byte>.Empty),
                    ListingFailure = new DocumentRejectedException(FailureKind.Unreadable, "no such file or folder; check the path"),
                });
            }
        }

        return listing;
    }

    private void Walk(DirectoryInfo dir, string root, List<IngestItem> items, Func<string, bool>? include)
    {
        FileSystemInfo[] entries;
        try
        {
            entries = dir.GetFileSystemInfos();
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            _unlistable.Add(dir.FullName);
            items.Add(new IngestItem
            {
                ExternalKey = dir.FullName,
                FileName = dir.Name,
                ReadAsync = _ => ValueTask.FromResult(ReadOnlyMemory<byte>.Empty),
                ListingFailure = new DocumentRejectedException(FailureKind.Unreadable, $"the folder could not be listed ({ex.Message}); its documents indexed before are kept"),
            });
            return;
        }

        foreach (var entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (entry.Name.StartsWith('.'))
            {
                continue;
            }

            if (entry is DirectoryInfo sub)
            {
                if (sub.LinkTarget is null)
                {
                    Walk(sub, root, items, include);
                }
            }
            else if (entry is FileInfo file && (include is null || include(Path.GetRelativePath(root, file.FullName))))
            {
                items.Add(FileItem(file));
            }
        }
    }

    private static IngestItem FileItem(FileInfo file)
    {
        long? size = null;
        DateTimeOffset? modified = null;
        try
        {
            size = file.Length;
            modified = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Reading will report the problem with the document.
        }

        var path = file.FullName;
        return new IngestItem
        {
            ExternalKey = path,
            FileName = file.Name,
            Uri = new Uri(path).AbsoluteUri,
            ChangedAt = modified,
            Size = size,
            SourceStamp = size is null ? null : string.Create(CultureInfo.InvariantCulture, $"{size}:{modified!.Value.UtcTicks}"),
            ReadAsync = async ct => await File.ReadAllBytesAsync(path, ct),
        };
    }

    private static bool IsUnder(string key, string root)
        => key.Length == root.Length
            ? string.Equals(key, root, StringComparison.Ordinal)
            : key.StartsWith(root, StringComparison.Ordinal) && key[root.Length] == Path.DirectorySeparatorChar;
}
