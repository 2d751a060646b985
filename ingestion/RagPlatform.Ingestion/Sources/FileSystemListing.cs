using System.Globalization;
using RagPlatform.Core;
using RagPlatform.Core.Documents;
using RagPlatform.Core.Security;
using RagPlatform.Ingestion.Pipeline;

namespace RagPlatform.Ingestion.Sources;

/// <summary>
/// Lists files and folders as pipeline items, cheaply: names, sizes and modification times only.
/// Decisions, documented for users: hidden files and folders (names starting with '.') are skipped;
/// symbolic links to folders are not followed (no cycles); a folder that cannot be listed is reported
/// as a failure and the documents indexed from it before are kept, not deleted.
/// <para>
/// ACLs from the folder: a sidecar <c>NAME.acl</c> next to a file gives that file's ACL; a
/// <c>.rag-acl</c> file gives the ACL of every file in its folder and below (the nearest one wins);
/// otherwise the source's default applies. Both hold principals separated by commas or new lines
/// (<c>group:eng, user:alice</c>; <c>#</c> starts a comment). Files ending in <c>.acl</c> are never indexed.
/// </para>
/// </summary>
public sealed class FileSystemListing
{
    private readonly List<string> _roots = [];
    private readonly List<string> _unlistable = [];

    private FileSystemListing()
    {
    }

    public IReadOnlyList<IngestItem> Items { get; private init; } = [];


    /// <summary>
    /// True for a previously indexed key that this listing speaks for: under a listed root and not
    /// under a folder that could not be read.
    /// </summary>
    public bool Covers(string externalKey)
        => _roots.Any(r => IsUnder(externalKey, r)) && !_unlistable.Any(u => IsUnder(externalKey, u));

    public const string SidecarExtension = ".acl";
    public const string FolderAclFile = ".rag-acl";

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
                var file = new FileInfo(full);
                var sidecar = new FileInfo(full + SidecarExtension);
                items.Add(WithAcl(FileItem(file), sidecar.Exists ? ReadAcl(sidecar) : FolderAcl(file.Directory)));
            }
            else if (Directory.Exists(full))
            {
                listing._roots.Add(Path.TrimEndingDirectorySeparator(full));
                var dir = new DirectoryInfo(full);
                listing.Walk(dir, full, items, include, FolderAcl(dir));
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

    private void Walk(DirectoryInfo dir, string root, List<IngestItem> items, Func<string, bool>? include, AclResult? inherited)
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

        var folderAcl = entries.OfType<FileInfo>().FirstOrDefault(f => f.Name == FolderAclFile) is { } aclFile ? ReadAcl(aclFile) : inherited;
        var sidecars = entries.OfType<FileInfo>()
            .Where(f => f.Name.EndsWith(SidecarExtension, StringComparison.Ordinal))
            .ToDictionary(f => f.Name[..^SidecarExtension.Length], StringComparer.Ordinal);
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
                    Walk(sub, root, items, include, folderAcl);
                }
            }
            else if (entry is FileInfo file && !file.Name.EndsWith(SidecarExtension, StringComparison.Ordinal) && (include is null || include(Path.GetRelativePath(root, file.FullName))))
            {
                items.Add(WithAcl(FileItem(file), sidecars.TryGetValue(file.Name, out var sidecar) ? ReadAcl(sidecar) : folderAcl));
            }
        }
    }

    /// <summary>An ACL read from a file: the list, or why it could not be used.</summary>
    private sealed record AclResult(AccessControlList? Acl, string? Error);

    private static IngestItem WithAcl(IngestItem item, AclResult? acl) => acl switch
    {
        null => item,
        { Error: { } error } => item with { ListingFailure = new DocumentRejectedException(FailureKind.InvalidAcl, error) },
        _ => item with { Acl = acl.Acl },
    };

    private static AclResult? FolderAcl(DirectoryInfo? dir)
    {
        for (var d = dir; d is not null; d = d.Parent)
        {
            var file = new FileInfo(Path.Combine(d.FullName, FolderAclFile));
            if (file.Exists)
            {
                return ReadAcl(file);
            }
        }

        return null;
    }

    private static AclResult ReadAcl(FileInfo file)
    {
        try
        {
            var principals = File.ReadAllLines(file.FullName)
                .Select(line => line.Split('#')[0])
                .SelectMany(line => line.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            return new AclResult(AccessControlList.FromStrings(principals, file.Name), null);
        }
        catch (RagValidationException ex)
        {
            return new AclResult(null, $"its ACL file {file.FullName} is not valid ({ex.Reason}); fix it and sync again");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new AclResult(null, $"its ACL file {file.FullName} could not be read ({ex.Message})");
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
