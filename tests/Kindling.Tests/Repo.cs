namespace Kindling.Tests;

internal static class Repo
{
    /// <summary>The repository root (the folder holding Kindling.slnx), found from the test binary's location.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "Kindling.slnx"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("cannot find the repository root from " + AppContext.BaseDirectory);
    }
}
