using System.Runtime.InteropServices;

namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// Makes a rename inside a directory durable. On Linux and macOS a rename reaches the disk only when the
/// directory itself is flushed; without it, a power cut after the log was reset could bring back the old
/// snapshot next to a log that no longer holds the batches it lacks. .NET has no API for this, hence fsync
/// through libc. On Windows, NTFS journals the rename and there is no directory handle to flush.
/// </summary>
internal static class DirectorySync
{
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = NativeMethods.Open(System.Text.Encoding.UTF8.GetBytes(directory + "\0"), NativeMethods.ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Could not open the directory {directory} to flush it to disk (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (NativeMethods.FSync(fd) != 0)
            {
                throw new IOException($"Could not flush the directory {directory} to disk (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    private static class NativeMethods
    {
        /// <summary>O_RDONLY, 0 on every Unix.</summary>
        public const int ReadOnly = 0;

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Open(byte[] nullTerminatedUtf8Path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int FSync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int fd);
    }
}
