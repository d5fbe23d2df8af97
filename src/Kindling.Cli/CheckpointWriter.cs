using Kindling.IO;

namespace Kindling.Cli;

/// <summary>
/// Saves checkpoint.safetensors so that a full disk ends the run with one line and the previous checkpoint intact.
/// Safetensors.Save writes a temporary file, reserves its full size up front (so "no space" is known before a byte is
/// written) and renames it over the old one: the disk needs room for the new copy beside the old, never more.
/// </summary>
public static class CheckpointWriter
{
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        try { Safetensors.Save(path, tensors, metadata); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string kept = File.Exists(path) ? $"the previous checkpoint {path} is kept" : "no checkpoint had been written yet";
            throw new UserError($"could not write the checkpoint {path}: {e.Message.ReplaceLineEndings(" ")}; {kept}. Free some disk space and continue with: kindling train --resume {Path.GetDirectoryName(path)}");
        }
    }
}
