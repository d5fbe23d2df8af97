namespace Kindling.Cli;
internal static class MemProbe
{
    public static void At(string s)
    {
        if (Environment.GetEnvironmentVariable("KINDLING_MEMPROBE") == null) return;
        var p = System.Diagnostics.Process.GetCurrentProcess();
        Console.Error.WriteLine($"[mem] {s}: alloc {GC.GetTotalAllocatedBytes() / 1e6:F0} MB, heap {GC.GetTotalMemory(false) / 1e6:F0} MB, ws {p.WorkingSet64 / 1e6:F0} MB, peak {p.PeakWorkingSet64 / 1e6:F0} MB");
    }
}
