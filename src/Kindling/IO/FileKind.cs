using System.Runtime.InteropServices;

namespace Kindling.IO;

/// <summary>What a path names, found without opening it (opening a FIFO for reading blocks until a writer appears).</summary>
public enum FileType { Missing, Regular, Directory, CharacterDevice, BlockDevice, Fifo, Socket, Other }

/// <summary>
/// The type and identity of a file from its metadata alone (statx on Linux, whose layout is the same on every
/// architecture; elsewhere .NET's File/Directory checks, which know regular files and folders only). Readers use it to
/// refuse a FIFO or device before a blocking open; writers use it to write through to devices and pipes instead of
/// renaming a regular file over them, and to tell whether an output is the very file an input names.
/// </summary>
public static class FileKind
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1, StatxIno = 0x100;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern unsafe int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);

    private static bool? _statxWorks;

    /// <summary>Type, device and inode of <paramref name="path"/> (following symbolic links unless <paramref name="noFollow"/>); null when statx is unavailable.</summary>
    private static unsafe (FileType Type, ulong Dev, ulong Ino)? Stat(string path, bool noFollow = false)
    {
        if (!OperatingSystem.IsLinux() || _statxWorks == false) return null;
        byte* b = stackalloc byte[256];
        int rc;
        try { rc = Statx(AtFdCwd, path, noFollow ? AtSymlinkNoFollow : 0, StatxType | StatxIno, b); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _statxWorks = false; return null; }
        _statxWorks = true;
        if (rc != 0) return (FileType.Missing, 0, 0);
        ushort mode = *(ushort*)(b + 28);
        ulong ino = *(ulong*)(b + 32);
        ulong dev = ((ulong)*(uint*)(b + 136) << 32) | *(uint*)(b + 140);
        var type = (mode & 0xF000) switch
        {
            0x8000 => FileType.Regular,
            0x4000 => FileType.Directory,
            0x2000 => FileType.CharacterDevice,
            0x6000 => FileType.BlockDevice,
            0x1000 => FileType.Fifo,
            0xC000 => FileType.Socket,
            _ => FileType.Other,
        };
        return (type, dev, ino);
    }

    /// <summary>The type of the file <paramref name="path"/> names, following symbolic links (a dangling link is Missing).</summary>
    public static FileType Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Stat(path) is { } s) return s.Type;
        if (Directory.Exists(path)) return FileType.Directory;
        return File.Exists(path) ? FileType.Regular : FileType.Missing;
    }

    /// <summary>True when both paths name one existing file (through links, hard links or different spellings).</summary>
    public static bool SameFile(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (Stat(a) is { } x && Stat(b) is { } y)
            return x.Type != FileType.Missing && y.Type != FileType.Missing && x.Dev == y.Dev && x.Ino == y.Ino;
        if (!File.Exists(a) && !Directory.Exists(a)) return false;
        return string.Equals(Resolve(a), Resolve(b), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>The full path with every symbolic link along it resolved (the path itself when it does not exist).</summary>
    public static string Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            if (File.ResolveLinkTarget(full, returnFinalTarget: true) is { } t) return Path.GetFullPath(t.FullName);
        }
        catch (IOException) { }
        var parent = Path.GetDirectoryName(full);
        if (parent == null || parent == full) return full;
        return Path.Combine(Resolve(parent), Path.GetFileName(full));
    }

    /// <summary>A message for a reader that needs a regular file, or null when <paramref name="path"/> is one.</summary>
    public static string? NotRegular(string path) => Of(path) switch
    {
        FileType.Regular => null,
        FileType.Missing => "does not exist",
        FileType.Directory => "is a folder",
        FileType.Fifo => "is a pipe (FIFO), not a regular file",
        FileType.CharacterDevice or FileType.BlockDevice => "is a device, not a regular file",
        FileType.Socket => "is a socket, not a regular file",
        _ => "is not a regular file",
    };
}
