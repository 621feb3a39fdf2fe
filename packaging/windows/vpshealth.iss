; Inno Setup script: a per-user installer of the PyInstaller onedir build.
; Build: iscc /DVersion=0.1.0 /DSource=build\pyinstaller\vpshealth packaging\windows\vpshealth.iss
#ifndef Version
  #define Version "0.1.0"
#endif
#ifndef Source
  #define Source "..\..\build\pyinstaller\vpshealth"
#endif

[Setup]
; AppId is Inno Setup's upgrade key (a new one would install beside the old version); the
; application ID io.vpshealth.VPSHealth is the shortcuts' AppUserModelID.
AppId={{6C0E8C9B-3E56-4C7A-9B8E-5F0D2A7B4E11}
AppName=VPS Health
AppVersion={#Version}
AppPublisher=VPS Health
DefaultDirName={localappdata}\Programs\VPS Health
DefaultGroupName=VPS Health
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=vpshealth-{#Version}-windows-setup
SetupIconFile=..\icons\vpshealth.ico
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\vpshealthw.exe

[Files]
Source: "{#Source}\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\VPS Health"; Filename: "{app}\vpshealthw.exe"; AppUserModelID: "io.vpshealth.VPSHealth"
Name: "{userdesktop}\VPS Health"; Filename: "{app}\vpshealthw.exe"; AppUserModelID: "io.vpshealth.VPSHealth"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked
Name: "service"; Description: "Keep checking in the background when the window is closed (background service)"; Flags: unchecked

[Run]
Filename: "{app}\vpshealth.exe"; Parameters: "service install"; Flags: runhidden; Tasks: service
Filename: "{app}\vpshealthw.exe"; Description: "Start VPS Health"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{app}\vpshealth.exe"; Parameters: "service uninstall"; Flags: runhidden; RunOnceId: "RemoveService"
