@echo off
rem Start (or restart) claude-runner under PM2 on Windows. Safe to run again.
rem   set CLAUDE_RUNNER_ROOT=C:\path\to\state   (default root: this checkout)
setlocal
cd /d "%~dp0.."
set "APP=claude-runner"
if defined CLAUDE_RUNNER_APP_NAME set "APP=%CLAUDE_RUNNER_APP_NAME%"

rem 1. The project's own virtualenv, with the runner installed in it.
if not exist ".venv\Scripts\python.exe" (
  echo creating .venv
  py -3 -m venv .venv || goto :error
  ".venv\Scripts\python.exe" -m pip install -q -e . || goto :error
)

rem 2. PM2 (a global npm install; pm2 is a .cmd, hence "call").
where pm2 >nul 2>nul
if errorlevel 1 (
  echo installing pm2 with npm
  call npm install -g pm2 || goto :error
)

rem 3. Start it, or restart it with the current ecosystem file and environment; remember it.
call pm2 describe %APP% >nul 2>nul
if errorlevel 1 (
  call pm2 start ecosystem.config.js || goto :error
) else (
  call pm2 restart ecosystem.config.js --update-env || goto :error
)
call pm2 save || goto :error

rem 4. Rotate PM2's own log files (a 24/7 process must not fill the disk); once per PM2 install.
call pm2 jlist | findstr /c:"\"name\":\"pm2-logrotate\"" >nul 2>nul
if errorlevel 1 call pm2 install pm2-logrotate
call pm2 set pm2-logrotate:max_size 20M >nul 2>nul
call pm2 set pm2-logrotate:retain 14 >nul 2>nul
call pm2 set pm2-logrotate:compress true >nul 2>nul

echo.
echo claude-runner runs under PM2 as "%APP%".
echo   pm2 status                          is it online?
echo   pm2 logs %APP%                  its output (also in logs\runner-*.log)
echo   pm2 monit                           live view, with queue length and level
echo   .venv\Scripts\claude-runner status  the runner's own view
echo   PM2 does not start at boot on Windows by itself: see pm2-installer or pm2-windows-startup
exit /b 0

:error
echo start-pm2 failed 1>&2
exit /b 1
