using System.Text;
using Lucene.Net.Index;
using Lucene.Net.Store;

namespace RagPlatform.Testing;

/// <summary>
/// What a write could have changed in a data directory, as text to compare before and after: the keyword index's latest
/// commit (its generation and files) and every other index file with its size and write time. The metadata database is
/// left out, since runs are recorded there even when nothing is indexed.
/// </summary>
/// <remarks>
/// Files of the keyword index outside its latest commit are left out on purpose: Lucene's background merges write new
/// segment files on their own schedule after a commit, and a snapshot that listed them would differ without any write.
/// </remarks>
public static class IndexSnapshot
{
    public static string Of(string dataDirectory)
    {
        var text = new StringBuilder();
        var keywordDirectory = Path.Combine(dataDirectory, "keyword");
        if (System.IO.Directory.Exists(keywordDirectory))
        {
            using var directory = FSDirectory.Open(keywordDirectory);
            var commit = DirectoryReader.ListCommits(directory)[^1];
            text.Append("keyword commit ").Append(commit.Generation).Append(':')
                .AppendJoin(' ', commit.FileNames.Order(StringComparer.Ordinal)).Append('\n');
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(dataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith("metadata.db", StringComparison.Ordinal))
            .Where(f => !f.StartsWith(keywordDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            text.Append(Path.GetRelativePath(dataDirectory, file)).Append(' ').Append(info.Length).Append(' ')
                .Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }

        return text.ToString();
    }
}
