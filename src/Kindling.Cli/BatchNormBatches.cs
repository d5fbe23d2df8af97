namespace Kindling.Cli;

/// <summary>
/// Batch norm in training needs at least two values per channel in every step (PyTorch raises "Expected more than 1
/// value per channel when training" otherwise): rows × the smallest feature map a BatchNorm layer sees (1 for the MLP's
/// BatchNorm1d, h×w for a CNN block's BatchNorm2d). A batch size that gives one value is refused up front; a final batch
/// of one row (rows mod batch = 1) is dropped each epoch, and the data line says so.
/// </summary>
public static class BatchNormBatches
{
    /// <summary>The smallest number of values per channel a BatchNorm layer gets from one row, or 0 without batch norm.</summary>
    public static long ValuesPerRow(TrainConfig c, int inputs)
    {
        if (!c.BatchNorm) return 0;
        if (c.Model != "cnn") return c.Hidden.Length > 0 ? 1 : 0;
        var (_, h, w) = CnnModel.ImageShape(inputs);
        long smallest = long.MaxValue;
        foreach (var _ in c.Conv)
        {
            smallest = Math.Min(smallest, (long)h * w);
            if (h >= 2 && w >= 2) { h /= 2; w /= 2; }
        }
        return smallest == long.MaxValue ? 0 : smallest;
    }

    /// <summary>Whether to drop a one-row final batch, and the note for the data line (null when nothing changes).</summary>
    public static (bool DropLast, string? Note) Plan(TrainConfig c, int rows, int inputs, int world)
    {
        long perRow = ValuesPerRow(c, inputs);
        if (perRow == 0 || rows == 0) return (false, null);
        int bs = Math.Min(c.BatchSize, rows);
        long perRank = bs / Math.Max(world, 1);
        if (perRank * perRow < 2)
            throw new UserError($"--batch-norm needs at least 2 values per channel in every training step, but --batch-size {c.BatchSize}{(world > 1 ? $" over {world} processes" : "")} gives {perRank} row{(perRank == 1 ? "" : "s")} of {(perRow == 1 ? "one value" : $"{perRow} values")} per channel{(c.Model == "cnn" ? " (the last conv block's maps are 1×1)" : "")}; use --batch-size {2 * Math.Max(world, 1)} or more, or leave out --batch-norm.");
        int last = rows % bs;
        if (world == 1 && last > 0 && last * perRow < 2)
            return (true, $"--batch-norm: the last batch of each epoch would hold a single row ({rows} rows = {rows / bs} × {bs} + 1), which batch norm cannot normalise; it is left out of each epoch ({(c.Shuffle ? "a different row each epoch" : "always the last row")}). A --batch-size that does not leave 1 row avoids this.");
        return (false, null);
    }
}
