#--- ecsb parameters ---
$DiskSerial = ''
$WorkUrl = ''
$ManifestUrl = ''
$CancelUrl = ''
$MaxFiles = 0
$MaxBytes = 0
$SourceDrive = ''
$PackFileBytes = 0
$PackBytes = 0
$PackFiles = 0
#--- end ecsb parameters ---
# ecs-backup export script for Windows, run as System through Cloud Assistant (RunPowerShellScript).
# Brings one disk made from a backup online read-only with a drive letter, walks the requested
# paths, uploads every regular file and a manifest through the signed URLs of its work list and
# prints the same `ECSB key=value` lines as the Linux script. Only short-lived URLs enter the guest.
# Files below $PackFileBytes travel in packs of up to $PackBytes / $PackFiles (0: no packs), one
# PUT per pack through the work list's `K` URLs, as the Linux script sends them.
#
# Manifest records are the Linux script's: `f|d|l|x<TAB>size<TAB>mode<TAB>owner<TAB>mtime<TAB>sha256
# <TAB>blob` (`p<pack>@<offset>` for a packed file), then the path (`\dir\file`, relative to the
# volume) and the link target or the skip reason, each ended by NUL. Modes are synthesized (NTFS
# has ACLs): 755 directories, 644 files, 444 read-only files. Links are recorded, never followed; a link leaving the volume is skipped.

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
try { [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12 } catch { }
# .NET holds each body back until the server answers 100 Continue: a round trip per upload.
[Net.ServicePointManager]::Expect100Continue = $false

$exitCode = 0
$stopReason = ''
$files = 0
$bytes = 0
$skipped = 0
# Per-file objects used so far; the pack being filled (path, full name, size, record fields each),
# its size, and how many packs went up.
$blobs = 0
$pack = New-Object System.Collections.Generic.List[object]
$packSize = [int64]0
$npacks = 0
$buf = New-Object byte[] 1048576
# The CryptoAPI SHA-256, not SHA256.Create()'s managed one: that one refuses to run where the FIPS
# policy is on.
$sha = New-Object Security.Cryptography.SHA256CryptoServiceProvider
$diskNumber = $null
$accessPath = ''
$work = Join-Path $env:TEMP ('ecsb-export-' + [guid]::NewGuid().ToString('N'))
$utf8 = New-Object System.Text.UTF8Encoding($false)
$seen = New-Object 'System.Collections.Generic.HashSet[string]' ([StringComparer]::OrdinalIgnoreCase)
$cancelWatch = [Diagnostics.Stopwatch]::StartNew()
$NUL = [char]0

function OneLine([string]$s, [int]$max = 400) {
    if ($null -eq $s) { return '' }
    $t = ($s -replace '[\r\n\t]+', ' ').Trim()
    if ($t.Length -gt $max) { $t = $t.Substring(0, $max) }
    return $t
}

# Ends the walk: the finally block still takes the disk offline.
function Stop-Export([string]$why, [int]$code) {
    $script:stopReason = $why
    $script:exitCode = $code
    throw 'ecsb-stop'
}

# A PUT of a file to a signed URL. HttpWebRequest, not Invoke-WebRequest: Windows PowerShell 5.1
# adds a Content-Type to a PUT (the URL was signed without one) and reads -InFile whole into memory.
function Send-File([string]$url, [string]$path) {
    for ($try = 1; $try -le 3; $try++) {
        $in = $null
        try {
            $req = [Net.HttpWebRequest]::Create($url)
            $req.Method = 'PUT'
            $req.Timeout = 3600000
            $req.ReadWriteTimeout = 3600000
            $req.AllowWriteStreamBuffering = $false
            $in = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite')
            $req.ContentLength = $in.Length
            $out = $req.GetRequestStream()
            $in.CopyTo($out, 1048576)
            $out.Close()
            $req.GetResponse().Close()
            return
        } catch {
            if ($try -eq 3) { throw }
            Start-Sleep -Seconds $try
        } finally {
            if ($null -ne $in) { $in.Dispose() }
        }
    }
}

# One file's $size bytes into the pack stream, hashed on the way. Returns the sha256, or `!` and why
# the file could not be read: zeros then stand in for what was not read, so the offsets after it hold.
function Copy-Hashed([string]$full, [int64]$size, $out) {
    $sha.Initialize()
    $left = $size
    $why = ''
    $in = $null
    try {
        try { $in = [IO.File]::Open($full, 'Open', 'Read', 'ReadWrite') } catch { $why = OneLine $_.Exception.Message 200 }
        while ($left -gt 0) {
            $n = [int][Math]::Min([int64]$buf.Length, $left)
            if ($why -eq '') {
                try { $n = $in.Read($buf, 0, $n) } catch { $why = OneLine $_.Exception.Message 200 }
                if ($n -le 0 -and $why -eq '') { $why = 'it is shorter than its listed size' }
                if ($why -eq '') { [void]$sha.TransformBlock($buf, 0, $n, $null, 0) }
            }
            if ($why -ne '') {
                $n = [int][Math]::Min([int64]$buf.Length, $left)
                [Array]::Clear($buf, 0, $n)
            }
            $out.Write($buf, 0, $n)
            $left -= $n
        }
    } finally {
        if ($null -ne $in) { $in.Dispose() }
    }
    if ($why -ne '') { return '!' + $why }
    [void]$sha.TransformFinalBlock($buf, 0, 0)
    return [BitConverter]::ToString($sha.Hash).Replace('-', '').ToLowerInvariant()
}

# The pack goes up as one PUT, its files streamed one after the other (no copy on the instance's
# disk) with a length known from their sizes, which a read-only disk keeps; the job checks each
# pack's size against the manifest. A failed try is sent again whole: a stream cannot rewind.
function Send-Pack {
    if ($pack.Count -eq 0) { return }
    if (Test-Canceled $true) { Stop-Export 'canceled' 7 }
    for ($try = 1; ; $try++) {
        $req = $null
        try {
            $req = [Net.HttpWebRequest]::Create($packUrls[$npacks])
            $req.Method = 'PUT'
            $req.Timeout = 3600000
            $req.ReadWriteTimeout = 3600000
            $req.AllowWriteStreamBuffering = $false
            $req.SendChunked = $false
            $req.ContentLength = $packSize
            $out = $req.GetRequestStream()
            try { $sums = @(foreach ($e in $pack) { Copy-Hashed $e[1] $e[2] $out }) } finally { $out.Close() }
            $req.GetResponse().Close()
            break
        } catch {
            if ($null -ne $req) { $req.Abort() }
            if ($try -ge 3) { Stop-Export ('a pack upload failed: ' + (OneLine $_.Exception.Message 200)) 6 }
            Start-Sleep -Seconds $try
        }
    }
    $offset = [int64]0
    for ($i = 0; $i -lt $pack.Count; $i++) {
        $e = $pack[$i]
        if ($sums[$i].StartsWith('!')) {
            Skip-Entry $e[0] ('cannot be read: ' + $sums[$i].Substring(1))
            $script:files--
            $script:bytes -= $e[2]
        } else {
            Write-Record ('f' + "`t" + $e[3] + "`t" + $sums[$i] + "`tp" + $npacks + '@' + $offset) $e[0] ''
        }
        $offset += $e[2]
    }
    $script:npacks++
    $script:packSize = [int64]0
    $pack.Clear()
}

# The job writes the cancel marker; its signed URL answers 200 once it exists. Asked at most every
# two seconds: a request per small file would cost more than its upload.
function Test-Canceled([bool]$now = $false) {
    if (-not $now -and $cancelWatch.Elapsed.TotalSeconds -lt 2) { return $false }
    $cancelWatch.Restart()
    try {
        $r = Invoke-WebRequest -Uri $CancelUrl -Method Get -UseBasicParsing -TimeoutSec 10
        return $r.StatusCode -eq 200
    } catch { return $false }
}

function Write-Record([string]$fields, [string]$path, [string]$extra) {
    $manifest.Write($fields + $NUL + $path + $NUL + $extra + $NUL)
}

function Skip-Entry([string]$path, [string]$why) {
    Write-Record "x`t-`t-`t-`t-`t-`t-" $path $why
    $script:skipped++
}

function Get-Owner([string]$full) {
    try { return (OneLine (Get-Acl -LiteralPath $full).Owner 200) } catch { return '-' }
}

function Get-Mtime($item) {
    return [int64](([DateTimeOffset]$item.LastWriteTimeUtc).ToUnixTimeSeconds())
}

# A link's target in the volume's own terms (`\dir\file`, or relative as stored), or $null when
# it leads off the volume: another drive, a share, a volume GUID path.
function Get-LinkTarget($item, [string]$volumePath) {
    $target = [string](@($item.Target)[0])
    $target = $target -replace '^\\\?\?\\', ''
    if ($target -match '^[A-Za-z]:\\') {
        if ($SourceDrive -ne '' -and $target.Substring(0, 1) -eq $SourceDrive) { return $target.Substring(2) }
        return $null
    }
    if ($target -match '^\\\\') { return $null }
    if ($target.StartsWith('\')) { return $target }
    $depth = ($volumePath.Split('\') | Where-Object { $_ -ne '' }).Count - 1
    foreach ($part in $target.Split('\')) {
        if ($part -eq '..') { $depth-- } elseif ($part -ne '.' -and $part -ne '') { $depth++ }
        if ($depth -lt 0) { return $null }
    }
    return $target
}

function Add-Entry($item, [string]$path) {
    if (-not $seen.Add($path)) { return $false }
    $owner = Get-Owner $item.FullName
    $mtime = Get-Mtime $item
    if ($item.Attributes -band [IO.FileAttributes]::ReparsePoint) {
        if ($item.LinkType -ne 'SymbolicLink' -and $item.LinkType -ne 'Junction') {
            Skip-Entry $path 'a reparse point that is not a link (deduplicated, cloud or app file) is not exported'
            return $false
        }
        $target = Get-LinkTarget $item $path
        if ($null -eq $target) { Skip-Entry $path 'a link that leads off the volume is not exported'; return $false }
        Write-Record "l`t0`t777`t$owner`t$mtime`t-`t-" $path $target
        return $false
    }
    if ($item -is [IO.DirectoryInfo]) {
        Write-Record "d`t0`t755`t$owner`t$mtime`t-`t-" $path ''
        return $true
    }
    if ($item.Attributes -band [IO.FileAttributes]::Encrypted) {
        Skip-Entry $path 'an EFS-encrypted file cannot be read on another instance'
        return $false
    }
    $size = [int64]$item.Length
    if ($files -ge $MaxFiles) { Skip-Entry $path "over the limit of $MaxFiles files per export"; return $false }
    if ($bytes + $size -gt $MaxBytes) { Skip-Entry $path "over the limit of $MaxBytes bytes per export"; return $false }
    $mode = if ($item.IsReadOnly) { '444' } else { '644' }
    $fields = "$size`t$mode`t$owner`t$mtime"
    if ($size -lt $PackFileBytes -and $npacks -lt $packUrls.Count) {
        if ($packSize + $size -gt $PackBytes -or $pack.Count -ge $PackFiles) { Send-Pack }
    }
    # Asked again: the pack just sent may have used the last pack URL.
    if ($size -lt $PackFileBytes -and $npacks -lt $packUrls.Count) {
        $pack.Add(@($path, $item.FullName, $size, $fields))
        $script:packSize += $size
        $script:files++
        $script:bytes += $size
        return $false
    }
    if (Test-Canceled) { Stop-Export 'canceled' 7 }
    try {
        $sum = (Get-FileHash -LiteralPath $item.FullName -Algorithm SHA256).Hash.ToLowerInvariant()
    } catch {
        Skip-Entry $path ('cannot be read: ' + (OneLine $_.Exception.Message 200))
        return $false
    }
    $blob = $blobs
    try { Send-File $urls[$blob] $item.FullName } catch { Stop-Export ('an upload failed: ' + (OneLine $_.Exception.Message 200)) 6 }
    Write-Record "f`t$fields`t$sum`t$blob" $path ''
    $script:blobs++
    $script:files++
    $script:bytes += $size
    return $false
}

# Directory by directory with an explicit stack: reparse points are recorded, never entered.
function Export-Tree($start, [string]$path) {
    $stack = New-Object System.Collections.Stack
    if (Add-Entry $start $path) { $stack.Push(@($start, $path)) }
    while ($stack.Count -gt 0) {
        $dir, $dirPath = $stack.Pop()
        try { $children = @($dir.EnumerateFileSystemInfos()) } catch {
            Skip-Entry $dirPath ('cannot be listed: ' + (OneLine $_.Exception.Message 200)); continue
        }
        foreach ($child in $children) {
            $childPath = if ($dirPath -eq '\') { '\' + $child.Name } else { $dirPath + '\' + $child.Name }
            if (Add-Entry $child $childPath) { $stack.Push(@($child, $childPath)) }
        }
    }
}

try {
    New-Item -ItemType Directory -Path $work -Force | Out-Null
    try {
        Invoke-WebRequest -Uri $WorkUrl -Method Get -UseBasicParsing -TimeoutSec 300 -OutFile "$work\list"
    } catch { Stop-Export ('the work list could not be fetched: ' + (OneLine $_.Exception.Message 200)) 4 }
    $lines = [IO.File]::ReadAllLines("$work\list", $utf8)
    $wanted = @($lines | Where-Object { $_.StartsWith('P ') } |
        ForEach-Object { $utf8.GetString([Convert]::FromBase64String($_.Substring(2))) })
    $urls = @($lines | Where-Object { $_.StartsWith('U ') } | ForEach-Object { $_.Substring(2) })
    $packUrls = @($lines | Where-Object { $_.StartsWith('K ') } | ForEach-Object { $_.Substring(2) })

    # ECS gives a cloud disk the serial number of its id without `d-`.
    $disk = Get-Disk | Where-Object { $_.SerialNumber -and $_.SerialNumber.Trim() -eq $DiskSerial } | Select-Object -First 1
    if ($null -eq $disk) { Stop-Export "no disk with serial number $DiskSerial is attached" 5 }
    $diskNumber = $disk.Number
    # Read-only before online, so nothing (not even NTFS log replay) is written. A SAN policy of
    # OnlineAll may have brought it online read-write already: offline first, so its volume is
    # mounted again read-only. A disk made from a snapshot of this instance's own disk collides
    # with it on signature: Windows onlines it only after writing a new one, so that write is let
    # through once, on this temporary disk alone, before any file of it is opened.
    if (-not $disk.IsOffline) { Set-Disk -Number $diskNumber -IsOffline $true }
    Set-Disk -Number $diskNumber -IsReadOnly $true
    try { Set-Disk -Number $diskNumber -IsOffline $false } catch {
        Set-Disk -Number $diskNumber -IsReadOnly $false
        Set-Disk -Number $diskNumber -IsOffline $false
        Set-Disk -Number $diskNumber -IsOffline $true
        Set-Disk -Number $diskNumber -IsReadOnly $true
        Set-Disk -Number $diskNumber -IsOffline $false
    }
    $partition = Get-Partition -DiskNumber $diskNumber |
        Where-Object { $v = $_ | Get-Volume -ErrorAction SilentlyContinue; $v -and $v.FileSystem -in @('NTFS', 'ReFS') } |
        Sort-Object -Property Size -Descending | Select-Object -First 1
    if ($null -eq $partition) { Stop-Export "disk $diskNumber holds no NTFS or ReFS volume" 5 }
    if (-not $partition.DriveLetter -or $partition.DriveLetter -eq [char]0) {
        try { Add-PartitionAccessPath -InputObject $partition -AssignDriveLetter } catch {
            Stop-Export ('no drive letter could be given to the volume: ' + (OneLine $_.Exception.Message 200)) 5
        }
        $partition = Get-Partition -DiskNumber $diskNumber -PartitionNumber $partition.PartitionNumber
        if (-not $partition.DriveLetter -or $partition.DriveLetter -eq [char]0) { Stop-Export 'no drive letter is free' 5 }
        $accessPath = "$($partition.DriveLetter):\"
    }
    $root = "$($partition.DriveLetter):"

    $manifest = New-Object System.IO.StreamWriter("$work\manifest", $false, $utf8)
    foreach ($p in $wanted) {
        $rel = $p -replace '/', '\'
        # The directories above a requested path, so the tree can be browsed from the root; a
        # reparse point on the way is not followed (its target names drives of another instance).
        $acc = ''
        $blocked = $false
        $parts = @($rel.Split('\') | Where-Object { $_ -ne '' })
        for ($i = 0; $i -lt $parts.Count - 1; $i++) {
            $acc = $acc + '\' + $parts[$i]
            $dir = Get-Item -LiteralPath ($root + $acc) -Force -ErrorAction SilentlyContinue
            if ($null -eq $dir) { break }
            if ($dir.Attributes -band [IO.FileAttributes]::ReparsePoint) { $blocked = $true; break }
            [void](Add-Entry $dir $acc)
        }
        if ($blocked) { Skip-Entry $rel 'a link on the way is not followed'; continue }
        $item = Get-Item -LiteralPath ($root + $rel) -Force -ErrorAction SilentlyContinue
        if ($null -eq $item) { Skip-Entry $rel 'does not exist on the disk'; continue }
        Export-Tree $item $(if ($parts.Count -eq 0) { '\' } else { $rel })
    }
    Send-Pack
    $manifest.Close()
    $manifest = $null
    # A cancel that came during the last uploads: no manifest, so nothing looks complete.
    if (Test-Canceled $true) { Stop-Export 'canceled' 7 }
    try { Send-File $ManifestUrl "$work\manifest" } catch { Stop-Export 'the manifest upload failed' 6 }
} catch {
    if ($exitCode -eq 0) {
        $exitCode = 1
        $stopReason = 'export script failed: ' + (OneLine $_.Exception.Message 300)
    }
} finally {
    if ($null -ne $manifest) { $manifest.Dispose() }
    if ($accessPath -ne '' -and $null -ne $diskNumber) {
        try { Remove-PartitionAccessPath -DiskNumber $diskNumber -PartitionNumber $partition.PartitionNumber -AccessPath $accessPath } catch { }
    }
    if ($null -ne $diskNumber) {
        try { Set-Disk -Number $diskNumber -IsOffline $true } catch {
            Write-Output ('[ecsb] disk ' + $diskNumber + ' could not be taken offline: ' + (OneLine $_.Exception.Message 200))
        }
    }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
if ($exitCode -ne 0) {
    Write-Output ('ECSB export_error=' + (OneLine $stopReason 500))
    exit $exitCode
}
Write-Output "ECSB files=$files"
Write-Output "ECSB bytes=$bytes"
Write-Output "ECSB skipped=$skipped"
Write-Output "ECSB device=disk $diskNumber ($root)"
exit 0
